"""Which members an access review covers, what of theirs it lists, and who reviews it.

A scope is `{roles?: [slug], department?: str, all?: bool, privileged?: bool}` (API.md); the
filters given combine (a role *and* a department), `all` alone means every active member. The
plain function for one member (a joiner's first review) uses `{members: [user id]}`.

Each member in scope contributes one item per live role assignment, per live object-level grant
made to them, and per override rule. The reviewer is the member's manager when the manager is an
active member of the tenant (and not the member), else the campaign's fallback reviewer. A
manager need not hold what their people hold: revoking an allow takes access away and gives
none; revoking a deny would widen, and there the escalation rule applies at decision time
(`tessera.reviews.services`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from tessera.access.models import Grant, Role, RoleAssignment
from tessera.access.privileged import privileged_members
from tessera.errors import ValidationFailed, field_error
from tessera.expiry import active_at
from tessera.reviews.models import ItemKind
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

MAX_SCOPE_ROLES = 50


def _invalid(where: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed("Invalid scope", errors=[field_error(where, message, code)], code=code)


def scope_validate(*, tenant: Tenant, scope: Mapping[str, Any] | None) -> dict[str, Any]:
    """The scope in its stored form; 422 naming the field when it selects nothing or is unknown."""
    if not isinstance(scope, Mapping):
        raise _invalid("scope", "An object with roles, department, all or privileged.")
    unknown = set(scope) - {"roles", "department", "all", "privileged", "members"}
    if unknown:
        raise _invalid(f"scope.{sorted(unknown)[0]}", "Not a scope field.")
    clean: dict[str, Any] = {}
    roles = scope.get("roles")
    if roles:
        if not isinstance(roles, list) or len(roles) > MAX_SCOPE_ROLES:
            raise _invalid("scope.roles", f"A list of at most {MAX_SCOPE_ROLES} role slugs.")
        slugs = sorted({str(r).lower() for r in roles})
        known = set(
            Role.objects.filter(tenant=tenant, slug__in=slugs).values_list("slug", flat=True)
        )
        missing = [s for s in slugs if s not in known]
        if missing:
            raise _invalid("scope.roles", f"No role {missing[0]!r} in this tenant.", "unknown_role")
        clean["roles"] = slugs
    department = scope.get("department")
    if department:
        if not isinstance(department, str) or len(department) > 120:
            raise _invalid("scope.department", "A department name (at most 120 characters).")
        clean["department"] = department
    if scope.get("privileged"):
        clean["privileged"] = True
    if scope.get("all"):
        clean["all"] = True
    members = scope.get("members")
    if members:
        clean["members"] = [str(m) for m in members]
    if not clean:
        raise _invalid(
            "scope", "Choose roles, a department, privileged members or all.", "scope_empty"
        )
    return clean


def members_in_scope(
    *, tenant: Tenant, scope: Mapping[str, Any], now: datetime
) -> QuerySet[Membership]:
    """The active members the (validated) scope selects, in a stable order."""
    members = Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE)
    if scope.get("roles"):
        live = active_at(now)
        holders = RoleAssignment.objects.filter(
            live, role__tenant=tenant, role__slug__in=scope["roles"]
        ).values("membership_id")
        members = members.filter(pk__in=holders)
    if scope.get("department"):
        members = members.filter(department=scope["department"])
    if scope.get("privileged"):
        members = members.filter(pk__in=privileged_members(tenant=tenant, now=now).values("pk"))
    if scope.get("members"):
        members = members.filter(user_id__in=scope["members"])
    return members.select_related("user", "manager").order_by("created_at", "id")


@dataclass
class PlannedItem:
    membership: Membership
    kind: str
    label: str
    detail: dict[str, Any] = field(default_factory=dict)
    role: Role | None = None
    grant: Grant | None = None


def _rule_label(rule: Mapping[str, Any]) -> str:
    extra = " (conditional)" if rule.get("condition") else ""
    return f"{rule['effect']} {rule['permission']} scope {rule['scope']}{extra}"


def access_of(membership: Membership, *, now: datetime) -> Iterator[PlannedItem]:
    """One planned item per live role, grant and override rule of the member."""
    live = active_at(now)
    for assignment in (
        RoleAssignment.objects.filter(live, membership=membership)
        .select_related("role")
        .order_by("role__slug")
    ):
        expires = assignment.expires_at.isoformat() if assignment.expires_at else None
        yield PlannedItem(
            membership,
            ItemKind.ROLE,
            f"role {assignment.role.slug}",
            {"role": assignment.role.slug, "expires_at": expires},
            role=assignment.role,
        )
    for grant in Grant.objects.filter(live, membership=membership).order_by("created_at", "id"):
        yield PlannedItem(
            membership,
            ItemKind.GRANT,
            f"grant {grant.permission} on {grant.resource_type} {grant.resource_id}",
            {
                "permission": grant.permission,
                "resource_type": grant.resource_type,
                "resource_id": grant.resource_id,
                "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
            },
            grant=grant,
        )
    for row in membership.overrides.order_by("position", "id"):
        rule = row.as_dict()
        yield PlannedItem(membership, ItemKind.OVERRIDE, f"override {_rule_label(rule)}", rule)


def reviewer_for(membership: Membership, *, fallback: Membership | None) -> Membership | None:
    """The member's manager when active in the tenant (and not the member), else the fallback."""
    manager = membership.manager
    if (
        manager is not None
        and manager.pk != membership.pk
        and manager.status == MembershipStatus.ACTIVE
        and manager.tenant_id == membership.tenant_id
    ):
        return manager
    return fallback
