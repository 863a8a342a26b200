"""Every router of the API, by path prefix under /api/v1."""

from __future__ import annotations

ROUTERS: list[tuple[str, object]] = []

from tessera.api.authz import router as authz_router  # noqa: E402

ROUTERS.append(("v1/authz", authz_router))

from tessera.api.auth import router as auth_router  # noqa: E402

ROUTERS.append(("v1/auth", auth_router))

from tessera.api.account import router as account_router  # noqa: E402  (also PATCH /auth/me)

ROUTERS.append(("v1/auth", account_router))

from tessera.api.ws_tickets import router as ws_tickets_router  # noqa: E402

ROUTERS.append(("v1/auth", ws_tickets_router))

from tessera.api.impersonation import router as impersonation_router  # noqa: E402

ROUTERS.append(("v1/auth", impersonation_router))

from tessera.api.delegations import router as delegations_router  # noqa: E402
from tessera.api.grants import router as grants_router  # noqa: E402
from tessera.api.member_security import router as member_security_router  # noqa: E402
from tessera.api.privacy import router as privacy_router  # noqa: E402
from tessera.api.roles import permissions_router, roles_router  # noqa: E402
from tessera.api.tenant import router as tenant_router  # noqa: E402
from tessera.api.tenants import router as tenants_router  # noqa: E402
from tessera.api.users import router as users_router  # noqa: E402

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

from tessera.api.access_reviews import router as access_reviews_router  # noqa: E402

ROUTERS.append(("v1/access-reviews", access_reviews_router))

from tessera.api.compliance import router as compliance_router  # noqa: E402

ROUTERS.append(("v1/compliance", compliance_router))
from tessera.api.qualifications import catalog_router as qualifications_router  # noqa: E402
from tessera.api.qualifications import records_router as qualification_records_router  # noqa: E402

ROUTERS.append(("v1/qualifications", qualifications_router))
ROUTERS.append(("v1/users", qualification_records_router))  # /{id}/qualifications

from tessera.api.lifecycle import offboard_router, template_router  # noqa: E402

ROUTERS.append(("v1/lifecycle", template_router))
ROUTERS.append(("v1/users", offboard_router))  # /{id}/offboard, /{id}/offboard/cancel
from tessera.api.domains import platform_router as domains_platform_router  # noqa: E402
from tessera.api.domains import router as domains_router  # noqa: E402
from tessera.api.identity_providers import router as identity_providers_router  # noqa: E402
from tessera.api.sso import router as sso_router  # noqa: E402

ROUTERS.append(("v1/identity-providers", identity_providers_router))
ROUTERS.append(("v1/domains", domains_router))
ROUTERS.append(("v1/tenants", domains_platform_router))  # /{tid}/domains/{id}/approve
ROUTERS.append(("v1/auth/sso", sso_router))
from tessera.api.scim_tokens import router as scim_tokens_router  # noqa: E402

ROUTERS.append(("v1/scim-tokens", scim_tokens_router))
