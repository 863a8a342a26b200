"""Reads of tenants and memberships. Every tenant-scoped read takes the tenant explicitly."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from tessera.tenancy.errors import TenantNotFound
from tessera.tenancy.models import Membership, MembershipStatus, Tenant


def tenant_get_by_hint(*, hint: str) -> Tenant:
    """The active tenant named by a slug or id (the X-Tenant header, a subdomain, a token)."""
    query = Tenant.objects.filter(is_active=True)
    tenant: Tenant | None
    try:
        tenant = query.get(id=uuid.UUID(hint))
    except (ValueError, Tenant.DoesNotExist):
        tenant = query.filter(slug=hint.lower()).first()
    if tenant is None:
        raise TenantNotFound(f"Unknown tenant {hint!r}")
    return tenant


def tenant_get(*, tenant_id) -> Tenant:
    """Any tenant by id, active or not (platform administration); 404 when there is none."""
    try:
        return Tenant.objects.get(pk=uuid.UUID(str(tenant_id)))
    except (ValueError, Tenant.DoesNotExist):
        raise TenantNotFound("No such tenant") from None


def tenants_page(*, q: str | None, after_slug: str | None, limit: int) -> list[Tenant]:
    """Tenants by slug (platform administration), `limit + 1` rows after `after_slug`."""
    qs = Tenant.objects.order_by("slug")
    if q:
        qs = qs.filter(slug__icontains=q.strip()[:63])
    if after_slug is not None:
        qs = qs.filter(slug__gt=after_slug)
    return list(qs[: limit + 1])


def membership_queryset(*, tenant: Tenant) -> QuerySet[Membership]:
    """The one entry point to a tenant's memberships: the tenant filter cannot be forgotten."""
    if tenant is None or tenant.pk is None:
        raise ValueError("a tenant is required")
    return Membership.objects.filter(tenant=tenant)


def membership_get_active(*, tenant: Tenant, user_id) -> Membership | None:
    return (
        membership_queryset(tenant=tenant)
        .filter(user_id=user_id, status=MembershipStatus.ACTIVE, user__is_active=True)
        .select_related("user")
        .first()
    )


def membership_get(*, tenant: Tenant, user_id) -> Membership | None:
    """A member of this tenant by the global user id; None for another tenant's user."""
    try:
        uuid.UUID(str(user_id))
    except ValueError:
        return None
    return membership_queryset(tenant=tenant).filter(user_id=user_id).select_related("user").first()


def memberships_of_user(*, user) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__slug")
    )


def team_user_ids(*, membership: Membership) -> frozenset[str]:
    """The member and everyone who reports to them, transitively (by user id)."""
    ids = {str(membership.user_id)}
    frontier = [membership.pk]
    while frontier:
        rows = list(
            Membership.objects.filter(tenant_id=membership.tenant_id, manager_id__in=frontier)
            .exclude(pk=membership.pk)
            .values_list("pk", "user_id")
        )
        frontier = [pk for pk, uid in rows if str(uid) not in ids]
        ids.update(str(uid) for _, uid in rows)
    return frozenset(ids)


def manager_chain_user_ids(*, membership: Membership) -> tuple[str, ...]:
    """User ids of the member's managers, nearest first."""
    chain: list[str] = []
    seen = {membership.pk}
    current = membership.manager_id
    while current and current not in seen:
        seen.add(current)
        row = Membership.objects.filter(pk=current).values_list("user_id", "manager_id").first()
        if row is None:
            break
        chain.append(str(row[0]))
        current = row[1]
    return tuple(chain)
