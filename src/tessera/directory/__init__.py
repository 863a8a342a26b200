"""The tenant's directory: verified email domains and group → role mapping.

Public surface (others build on it: SSO sign-ins and SCIM groups):

- `tessera.directory.models`: `Domain`, `GroupRoleMapping`, `MappedAssignment`.
- `tessera.directory.domains`: `domain_claim`, `domain_verify`, `domain_approve`, `domain_delete`
  (writes); the TXT resolver is pluggable (`settings.DIRECTORY_TXT_RESOLVER`).
- `tessera.directory.groups`: `group_mapping_set` (write the tenant's mapping) and
  `membership_groups_sync` (apply it to one member for one source).
- `tessera.directory.selectors`: `domain_for_email`, `domain_list`, `domain_get`,
  `group_mapping_list`, `roles_for_groups`, `mapped_roles`.
- `tessera.directory.errors`: the app's error codes.

Layer: above `access` (it assigns roles through the access services), below sso/scim/api.
"""
