"""Every router of the API, by path prefix under /api/v1."""

from __future__ import annotations

ROUTERS: list[tuple[str, object]] = []

from tessera.api.authz import router as authz_router  # noqa: E402

ROUTERS.append(("v1/authz", authz_router))

from tessera.api.auth.views import router as auth_router  # noqa: E402

ROUTERS.append(("v1/auth", auth_router))

from tessera.api.account import router as account_router  # noqa: E402  (also PATCH /auth/me)

ROUTERS.append(("v1/auth", account_router))

from tessera.api.ws_tickets import router as ws_tickets_router  # noqa: E402

ROUTERS.append(("v1/auth", ws_tickets_router))

from tessera.api.delegations import router as delegations_router  # noqa: E402
from tessera.api.grants import router as grants_router  # noqa: E402
from tessera.api.member_security import router as member_security_router  # noqa: E402
from tessera.api.privacy import router as privacy_router  # noqa: E402
from tessera.api.roles import permissions_router, roles_router  # noqa: E402
from tessera.api.tenant import router as tenant_router  # noqa: E402
from tessera.api.tenants import router as tenants_router  # noqa: E402
from tessera.api.users.views import router as users_router  # noqa: E402

ROUTERS.append(("v1/tenants", tenants_router))
ROUTERS.append(("v1/tenant", tenant_router))
ROUTERS.append(("v1/users", users_router))
ROUTERS.append(("v1/users", privacy_router))  # GDPR: /{id}/export, /{id}/erase (same prefix)
ROUTERS.append(("v1/users", member_security_router))  # /{id}/sessions, /{id}/mfa/reset
ROUTERS.append(("v1/roles", roles_router))
ROUTERS.append(("v1/permissions", permissions_router))
ROUTERS.append(("v1/grants", grants_router))
ROUTERS.append(("v1/delegations", delegations_router))

from tessera.api.audit import router as audit_router  # noqa: E402

ROUTERS.append(("v1/audit-events", audit_router))

from tessera.api.api_keys import router as api_keys_router  # noqa: E402
from tessera.api.mfa import router as mfa_router  # noqa: E402
from tessera.api.service_accounts import router as service_accounts_router  # noqa: E402

ROUTERS.append(("v1/auth/mfa", mfa_router))
ROUTERS.append(("v1/api-keys", api_keys_router))
ROUTERS.append(("v1/service-accounts", service_accounts_router))

from tessera.api.invitations import router as invitations_router  # noqa: E402

ROUTERS.append(("v1/invitations", invitations_router))
