"""The permission matrix: the tenant's roles × its permission catalog, each cell saying whether
the role allows or denies the permission, directly or inherited from a parent role, and through
which rule (a wildcard such as `*:*` or `user:*` covers many rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tessera.access.catalog import SYSTEM_PERMISSIONS
from tessera.access.models import Role
from tessera.access.selectors import permission_list, role_list
from tessera.engine import permission_covers
from tessera.tenancy.models import Tenant


@dataclass(frozen=True, slots=True)
class RuleSeen:
    effect: str
    permission: str
    scope: str
    conditional: bool
    from_role: str | None  # None: the role's own rule; else the ancestor it is inherited from


@dataclass(frozen=True, slots=True)
class Cell:
    """What one role says about one permission: state is allow, inherited, deny or none."""

    state: str
    rules: tuple[RuleSeen, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    roles: list[Role]
    rows: list[tuple[str, str, list[Cell]]]  # (permission, description, one cell per role)


def _ancestors(role: Role, by_pk: dict[Any, Role]) -> list[Role]:
    """The role's ancestors, nearest first (cycles cannot be stored, but are not followed)."""
    seen, order, queue = {role.pk}, [], list(role.parents.all())
    while queue:
        parent = by_pk.get(queue.pop(0).pk)
        if parent is None or parent.pk in seen:
            continue
        seen.add(parent.pk)
        order.append(parent)
        queue.extend(parent.parents.all())
    return order


def _rules_of(role: Role, by_pk: dict[Any, Role]) -> list[RuleSeen]:
    found = []
    for owner in [role, *_ancestors(role, by_pk)]:
        for rule in sorted(owner.rules.all(), key=lambda r: (r.position, r.pk)):
            found.append(
                RuleSeen(
                    effect=rule.effect,
                    permission=rule.permission,
                    scope=rule.scope,
                    conditional=bool(rule.condition),
                    from_role=None if owner is role else owner.slug,
                )
            )
    return found


def _cell(rules: list[RuleSeen], permission: str) -> Cell:
    matching = tuple(r for r in rules if permission_covers(r.permission, permission))
    if any(r.effect == "deny" for r in matching):
        state = "deny"
    elif any(r.effect == "allow" and r.from_role is None for r in matching):
        state = "allow"
    elif matching:
        state = "inherited"
    else:
        state = "none"
    return Cell(state=state, rules=matching)


def permission_matrix(*, tenant: Tenant) -> Matrix:
    """Every role of the tenant against every permission of its catalog (see `_catalog`)."""
    roles = list(role_list(tenant=tenant))
    by_pk = {r.pk: r for r in roles}
    rules = {r.pk: _rules_of(r, by_pk) for r in roles}
    return Matrix(
        roles=roles,
        rows=[(p, d, [_cell(rules[r.pk], p) for r in roles]) for p, d in _catalog(tenant, rules)],
    )


def _catalog(tenant: Tenant, rules: dict[Any, list[RuleSeen]]) -> list[tuple[str, str]]:
    """The rows: Tessera's own permissions, the tenant's catalog, and any other permission a
    role names (wildcards are not rows: they show in the rows they cover), sorted."""
    found = dict(SYSTEM_PERMISSIONS)
    found.update({e.permission: e.description for e in permission_list(tenant=tenant)})
    for seen in rules.values():
        for rule in seen:
            if "*" not in rule.permission:
                found.setdefault(rule.permission, "")
    return sorted(found.items())
