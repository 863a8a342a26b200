"""Errors of the tenancy layer."""

from tessera.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class NotAMember(PermissionDenied):
    code = "not_a_member"


class TenantNotBound(PermissionDenied):
    """A session bound to no tenant named one (header or subdomain): switch-tenant instead."""

    code = "tenant_not_bound"


class MembershipExists(Conflict):
    code = "membership_exists"


class ManagerInvalid(ValidationFailed):
    code = "manager_invalid"


class SelfActionForbidden(Conflict):
    """Nobody deactivates, removes or erases their own membership."""

    code = "self_action_forbidden"
