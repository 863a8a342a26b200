"""Which tenant a request acts in, and the membership that entitles the caller to it."""

from __future__ import annotations

from tessera.tenancy.errors import NotAMember, TenantNotBound, TenantNotFound
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.selectors import membership_get_active, tenant_get_by_hint


def resolve_tenant(*, principal, hint: str | None) -> tuple[Tenant | None, Membership | None]:
    """(tenant, membership) for the caller; raises 404 for unknown tenants, 403 for non-members.

    A credential bound to a tenant (token `tid`, API key) wins; a header naming another tenant is
    refused rather than silently ignored. A credential bound to no tenant (a session of a person
    with several memberships who signed in without naming one) never acts in a tenant: a header
    or subdomain naming one is refused (403 `tenant_not_bound`) — the tenant's authentication
    policy (MFA, trusted devices, session limits) was never run for it; `switch-tenant` runs it
    (docs/decisions/0009-one-tenant-per-session.md).
    """
    bound = getattr(principal, "tenant_id", None) if principal is not None else None
    if bound is not None:
        verified_tenant = getattr(principal, "tenant", None)
        if verified_tenant is not None and getattr(principal, "membership", None) is not None:
            # tessera.authn proved this request that the membership and its tenant are active;
            # both are lazy rows, loaded only if a view reads them
            if hint and hint.lower() != str(bound).lower() and hint.lower() != verified_tenant.slug:
                raise NotAMember(
                    "The credential is bound to another tenant; use /api/v1/auth/switch-tenant"
                )
            return verified_tenant, principal.membership
        membership = getattr(principal, "membership", None)
        if membership is None:
            membership = (
                Membership.objects.select_related("tenant", "user")
                .filter(pk=principal.membership_id, tenant_id=bound)
                .first()
            )
        if membership is None or not membership.tenant.is_active:
            raise TenantNotFound("The credential's tenant no longer exists")
        if membership.status != MembershipStatus.ACTIVE:
            raise NotAMember("Your membership in this tenant is not active")
        tenant = membership.tenant
        if hint and hint.lower() not in (tenant.slug, str(tenant.pk)):
            raise NotAMember(
                "The credential is bound to another tenant; use /api/v1/auth/switch-tenant"
            )
        return tenant, membership
    if not hint:
        return None, None
    tenant = tenant_get_by_hint(hint=hint)
    if principal is None:
        return tenant, None  # anonymous: endpoints that need a member answer 401
    if getattr(principal, "session_id", None) is not None:
        raise TenantNotBound(
            "This session is not bound to a tenant: use POST /api/v1/auth/switch-tenant "
            "(or sign in naming the tenant)"
        )
    membership = membership_get_active(tenant=tenant, user_id=principal.user_id)
    if membership is None:
        raise NotAMember(f"You are not an active member of {tenant.slug}")
    return tenant, membership


__all__ = ["resolve_tenant", "TenantNotFound", "NotAMember", "TenantNotBound"]
