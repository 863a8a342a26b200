"""Reads of tenants and memberships. Every tenant-scoped read takes the tenant explicitly."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from tessera.tenancy.errors import TenantNotFound
from tessera.tenancy.models import Membership, MembershipStatus, Tenant


def tenant_find(*, hint: str | None) -> Tenant | None:
    """The active tenant named by a slug or an id (the one lookup of a tenant a caller names:
    the X-Tenant header, a subdomain, a token, a login, a tenant switch); None when none is."""
    hint = (hint or "").strip().lower()
    if not hint:
        return None
    try:
        by_id = Q(pk=uuid.UUID(hint))
    except ValueError:
        by_id = Q(pk__in=[])
    return Tenant.objects.filter(is_active=True).filter(by_id | Q(slug=hint)).first()


def tenant_get_by_hint(*, hint: str) -> Tenant:
    """The active tenant named by a slug or id; 404 `tenant_not_found` otherwise."""
    tenant = tenant_find(hint=hint)
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


def memberships_by_user_id(*, tenant: Tenant, user_ids) -> dict[uuid.UUID, Membership]:
    """The members of this tenant among `user_ids` (global user ids), by user id: one query.
    Ids that are not UUIDs, and other tenants' users, are left out."""
    wanted = set()
    for user_id in user_ids:
        try:
            wanted.add(uuid.UUID(str(user_id)))
        except ValueError:
            continue
    if not wanted:
        return {}
    found = membership_queryset(tenant=tenant).filter(user_id__in=wanted).select_related("user")
    return {membership.user_id: membership for membership in found}


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


def memberships_active(*, user_id) -> list[Membership]:
    """The person's active memberships in active tenants, with their tenants, by tenant slug
    (one query): where they may sign in, whose lockout and password rules apply to them."""
    return list(
        Membership.objects.filter(
            user_id=user_id, status=MembershipStatus.ACTIVE, tenant__is_active=True
        )
        .select_related("tenant")
        .order_by("tenant__slug")
    )


def member_tenants(user, *, active_tenants_only: bool) -> list[Tenant]:
    """The tenants where `user` is an active member (with `active_tenants_only`, active ones):
    whose password policies apply to the person (`tessera.identity.passwords`)."""
    tenants = Tenant.objects.filter(
        memberships__user_id=user.pk, memberships__status=MembershipStatus.ACTIVE
    )
    if active_tenants_only:
        return list(tenants.filter(is_active=True).only("id", "settings"))
    return list(tenants.only("slug", "name"))
