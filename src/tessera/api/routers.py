"""Every router of the API, by path prefix under /api/v1, in the order the document lists them."""

from __future__ import annotations

from ninja import Router

from tessera.api.access_reviews.views import router as access_reviews_router
from tessera.api.account.views import router as account_router
from tessera.api.api_keys.views import router as api_keys_router
from tessera.api.audit.views import router as audit_router
from tessera.api.auth.views import router as auth_router
from tessera.api.authz.views import router as authz_router
from tessera.api.compliance.views import router as compliance_router
from tessera.api.delegations.views import router as delegations_router
from tessera.api.domains.views import platform_router as domains_platform_router
from tessera.api.domains.views import router as domains_router
from tessera.api.grants.views import router as grants_router
from tessera.api.identity_providers.views import router as identity_providers_router
from tessera.api.impersonation.views import router as impersonation_router
from tessera.api.invitations.views import router as invitations_router
from tessera.api.lifecycle.views import offboard_router, template_router
from tessera.api.member_security.views import router as member_security_router
from tessera.api.mfa.views import router as mfa_router
from tessera.api.privacy.views import router as privacy_router
from tessera.api.qualifications.views import catalog_router as qualifications_router
from tessera.api.qualifications.views import records_router as qualification_records_router
from tessera.api.roles.views import permissions_router, roles_router
from tessera.api.scim_tokens import router as scim_tokens_router
from tessera.api.service_accounts.views import router as service_accounts_router
from tessera.api.sso.views import router as sso_router
from tessera.api.tenant.views import router as tenant_router
from tessera.api.tenants.views import router as tenants_router
from tessera.api.users.views import router as users_router
from tessera.api.ws_tickets.views import router as ws_tickets_router

ROUTERS: list[tuple[str, Router]] = [
    ("v1/authz", authz_router),
    ("v1/auth", auth_router),
    ("v1/auth", account_router),  # also PATCH /auth/me, on the auth router
    ("v1/auth", ws_tickets_router),
    ("v1/auth", impersonation_router),
    ("v1/tenants", tenants_router),
    ("v1/tenant", tenant_router),
    ("v1/users", users_router),
    ("v1/users", privacy_router),  # GDPR: /{id}/export, /{id}/erase (same prefix)
    ("v1/users", member_security_router),  # /{id}/sessions, /{id}/mfa/reset
    ("v1/roles", roles_router),
    ("v1/permissions", permissions_router),
    ("v1/grants", grants_router),
    ("v1/delegations", delegations_router),
    ("v1/audit-events", audit_router),
    ("v1/auth/mfa", mfa_router),
    ("v1/api-keys", api_keys_router),
    ("v1/service-accounts", service_accounts_router),
    ("v1/invitations", invitations_router),
    ("v1/access-reviews", access_reviews_router),
    ("v1/compliance", compliance_router),
    ("v1/qualifications", qualifications_router),
    ("v1/users", qualification_records_router),  # /{id}/qualifications
    ("v1/lifecycle", template_router),
    ("v1/users", offboard_router),  # /{id}/offboard, /{id}/offboard/cancel
    ("v1/identity-providers", identity_providers_router),
    ("v1/domains", domains_router),
    ("v1/tenants", domains_platform_router),  # /{tid}/domains/{id}/approve
    ("v1/auth/sso", sso_router),
    ("v1/scim-tokens", scim_tokens_router),
]
