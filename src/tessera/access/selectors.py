"""Reads of access data: the permission catalog, roles, members' roles and effective permissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from tessera.access.bridge.policy import member_policy
from tessera.access.models import (
    Delegation,
    Grant,
    Permission,
    Role,
    RoleAssignment,
    RoleRule,
)
from tessera.access.services.validation import _stored_rules
from tessera.engine import effective_permissions
from tessera.errors import NotFound
from tessera.expiry import active_at
from tessera.tenancy.models import Membership, Tenant


def permission_list(*, tenant: Tenant) -> QuerySet[Permission]:
    """The catalog as the tenant sees it: the system entries and the tenant's own."""
    return Permission.objects.filter(Q(tenant__isnull=True) | Q(tenant=tenant)).order_by(
        "permission"
    )


def role_list(*, tenant: Tenant) -> QuerySet[Role]:
    return Role.objects.filter(tenant=tenant).prefetch_related("parents", "rules").order_by("slug")


def role_get(*, tenant: Tenant, slug: str) -> Role:
    """One role of the tenant by slug; 404 otherwise (also for another tenant's role)."""
    role = Role.objects.filter(tenant=tenant, slug=str(slug or "").lower()[:64]).first()
    if role is None:
        raise NotFound(f"No role {slug!r}", code="role_not_found")
    return role


def role_slugs_by_membership(membership_ids, now: datetime) -> dict[str, list[str]]:
    """The unexpired role slugs of each of these memberships, sorted (one query)."""
    slugs: dict[str, list[str]] = {str(mid): [] for mid in membership_ids}
    rows = (
        RoleAssignment.objects.filter(membership_id__in=list(membership_ids))
        .filter(active_at(now))
        .values_list("membership_id", "role__slug")
        .order_by("role__slug")
    )
    for membership_id, slug in rows:
        slugs[str(membership_id)].append(slug)
    return slugs


def membership_role_slugs(*, membership_id, now: datetime) -> list[str]:
    """The member's unexpired role slugs, sorted: the one home of this question."""
    return role_slugs_by_membership([membership_id], now).get(str(membership_id), [])


def grant_list(*, tenant: Tenant) -> QuerySet[Grant]:
    return Grant.objects.filter(tenant=tenant).select_related("membership", "role")


def grant_get(*, tenant: Tenant, grant_id) -> Grant:
    try:
        grant = grant_list(tenant=tenant).filter(pk=grant_id).first()
    except (ValueError, ValidationError):  # a malformed id
        grant = None
    if grant is None:
        raise NotFound("No such grant", code="grant_not_found")
    return grant


def delegation_list(*, tenant: Tenant) -> QuerySet[Delegation]:
    return Delegation.objects.filter(tenant=tenant).select_related(
        "delegator__user", "delegate__user", "role"
    )


def delegation_get(*, tenant: Tenant, delegation_id) -> Delegation:
    try:
        delegation = delegation_list(tenant=tenant).filter(pk=delegation_id).first()
    except (ValueError, ValidationError):  # a malformed id
        delegation = None
    if delegation is None:
        raise NotFound("No such delegation", code="delegation_not_found")
    return delegation


def effective_permissions_of(
    *, membership: Membership, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every rule and grant in force for the member now, with its source (role path, override,
    grant or delegation): the engine's `effective_permissions` on the member's compiled policy.

    Each entry: `{permission, effect, scope, condition, source: {kind, path, via, source_id,
    index}, not_before, not_after, resource}`.
    """
    now = now or timezone.now()
    compiled = member_policy(membership, now=now)
    return [entry.to_json() for entry in effective_permissions(compiled.policy, now)]


def role_rules(role: Role) -> list[dict[str, Any]]:
    return _stored_rules(role.rules.order_by("position", "id"))


def role_effective_rules(role: Role) -> list[dict[str, Any]]:
    """The role's rules and those inherited from its ancestors."""
    seen, stack, order = set(), [role], []
    while stack:
        current = stack.pop(0)
        if current.pk in seen:
            continue
        seen.add(current.pk)
        order.append(current.pk)
        stack.extend(current.parents.all())
    rows = RoleRule.objects.filter(role_id__in=order).order_by("position", "id")
    by_role: dict[Any, list] = {}
    for row in rows:
        by_role.setdefault(row.role_id, []).append(row)
    return [rule for pk in order for rule in _stored_rules(by_role.get(pk, ()))]
