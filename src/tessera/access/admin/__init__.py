"""Admin for roles (with a readable permission matrix), assignments, grants and delegations.

Every change goes through `tessera.access.services`, exactly as the API's do, so that policy
versions are bumped and audit events written: the admin never saves these models itself. The
acting platform administrator is recorded as the actor; the tenant guard rails that concern
the *last administrator* and role capacity apply here too.

Django's admin autodiscovery imports this package; importing the modules registers their pages.
"""

from tessera.access.admin import grants, permissions, roles  # noqa: F401  (registers the pages)
