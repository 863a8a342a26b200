"""Privileged access: who can administer the tenant or other people's access.

A role is privileged when it (with its ancestors) allows one of `PRIVILEGED_PERMISSIONS`
unconditionally or not (`*:*` covers them all); a member is privileged when they hold such a role
now, or an override allowing one of them. Access review campaigns scope on it
(`scope.privileged`) and the SOC 2 evidence counts it (CC6.3).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from tessera.access.models import Effect, MembershipOverride, Role, RoleAssignment
from tessera.access.selectors import role_effective_rules
from tessera.engine import permission_covers
from tessera.expiry import active_at
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

PRIVILEGED_PERMISSIONS: tuple[str, ...] = (
    "tenant:update",
    "role:create",
    "role:update",
    "role:assign",
    "grant:create",
    "delegation:approve",
    "user:deactivate",
    "user:delete",
    "user:impersonate",
    "session:revoke",
    "api_key:revoke",
)


def permission_is_privileged(permission: str) -> bool:
    return any(permission_covers(permission, wanted) for wanted in PRIVILEGED_PERMISSIONS)


def privileged_role_ids(*, tenant: Tenant) -> list:
    """The tenant's roles whose rules (or their ancestors') allow a privileged permission."""
    found = []
    for role in Role.objects.filter(tenant=tenant).prefetch_related("parents"):
        rules = role_effective_rules(role)
        if any(
            r["effect"] == Effect.ALLOW and permission_is_privileged(r["permission"]) for r in rules
        ):
            found.append(role.pk)
    return found


def privileged_members(*, tenant: Tenant, now: datetime) -> QuerySet[Membership]:
    """Active members holding privileged access now (through a live role or an override)."""
    role_ids = privileged_role_ids(tenant=tenant)
    by_role = RoleAssignment.objects.filter(role_id__in=role_ids).filter(active_at(now))
    overrides = MembershipOverride.objects.filter(
        membership__tenant=tenant, effect=Effect.ALLOW
    ).values_list("membership_id", "permission")
    by_override = {mid for mid, permission in overrides if permission_is_privileged(permission)}
    return Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE).filter(
        Q(pk__in=by_role.values("membership_id")) | Q(pk__in=by_override)
    )
