"""The password-login gate of SSO-required tenants (registered in tessera.authn's EMAIL_GATES)."""

from __future__ import annotations

from tessera.directory.selectors import domain_for_email
from tessera.sso.errors import SsoRequired
from tessera.sso.selectors import provider_for_email, start_url


def sso_required_gate(email: str) -> SsoRequired | None:
    """`sso_required` (403) for an address whose domain is verified by a tenant requiring SSO;
    the problem names the tenant and, when it has an enabled provider, where to start."""
    domain = domain_for_email(email)
    if domain is None or not domain.tenant.policy.sso.required:
        return None
    provider = provider_for_email(email)
    where = {
        "tenant": domain.tenant.slug,
        "provider_id": str(provider.pk) if provider is not None else None,
        "start_url": start_url(provider) if provider is not None else None,
    }
    detail = (
        f"{domain.tenant.name} requires single sign-on for @{domain.domain} addresses: "
        "sign in through your organisation's identity provider"
        + (f" at {where['start_url']}" if provider is not None else "")
        + " (or ask POST /api/v1/auth/sso/discover)."
    )
    return SsoRequired(detail, extensions=where)
