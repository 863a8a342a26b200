"""Validation of access input: permissions, rules, parent roles, times, tenants."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tessera.access.escalation import NotHeld as NotHeld
from tessera.access.escalation import TargetOutranks as TargetOutranks
from tessera.access.models import (
    Role,
)
from tessera.engine import (
    ConditionError,
    PolicyError,
    RuleSpec,
    find_role_cycle,
    rule_from_json,
    validate_permission,
)
from tessera.errors import NotFound, ValidationFailed, field_error
from tessera.tenancy.models import Tenant

ADMIN_ROLE = "admin"
ROLE_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RESOURCE_TYPE = re.compile(r"[a-z][a-z0-9_.\-]{0,63}")
MAX_PERMISSION_LENGTH = 128
MAX_RULES = 500
_UNSET: Any = object()


def _invalid(where: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, errors=[field_error(where, message, code)])


def permission_validate(permission: Any, *, where: str = "permission", concrete=False) -> str:
    """`resource:action` (`resource:*`, `*:*` unless `concrete`); 422 otherwise."""
    try:
        if not isinstance(permission, str) or len(permission) > MAX_PERMISSION_LENGTH:
            raise PolicyError(f"a permission is a string of at most {MAX_PERMISSION_LENGTH} chars")
        validate_permission(permission)
        if concrete and "*" in permission:
            raise PolicyError("wildcards are not allowed here")
    except PolicyError as exc:
        raise _invalid(where, f"Invalid permission: {exc.detail}", "invalid_permission") from None
    return permission


def rules_validate(rules: Any, *, where: str = "rules") -> list[dict[str, Any]]:
    """Validated rules in their stored form; 422 naming the rule and what is wrong with it.

    Checks the effect, the permission syntax (engine), the scope, the condition (compiled by the
    engine: an unknown operator is named with its location) and the field rules.
    """
    if not isinstance(rules, list | tuple):
        raise _invalid(where, "Rules must be a list.")
    if len(rules) > MAX_RULES:
        raise _invalid(where, f"At most {MAX_RULES} rules.", "too_long")
    validated = []
    for i, rule in enumerate(rules):
        at = f"{where}[{i}]"
        try:
            spec = rule_from_json(rule)
        except ConditionError as exc:
            message = exc.detail.removeprefix("rule: ")
            raise ValidationFailed(
                f"Invalid condition in {at}: {message}",
                errors=[field_error(f"{at}.condition", message, "invalid_condition")],
            ) from None
        except PolicyError as exc:
            message = exc.detail.removeprefix("rule: ")
            raise ValidationFailed(
                f"Invalid rule {at}: {message}",
                errors=[field_error(f"{at}.{exc.field or 'rule'}", message, exc.code)],
            ) from None
        permission_validate(spec.permission, where=f"{at}.permission")
        validated.append(rule_as_dict(spec))
    return validated


def rule_as_dict(spec: RuleSpec) -> dict[str, Any]:
    """A rule's stored (and API) form."""
    return {
        "effect": spec.effect,
        "permission": spec.permission,
        "scope": spec.scope,
        "condition": dict(spec.condition) if spec.condition is not None else None,
        "fields": {n: {"read": a.read, "write": a.write} for n, a in spec.fields.items()},
    }


def _rule_rows(model, rules: Sequence[Mapping[str, Any]], **owner) -> list:
    return [
        model(
            position=i,
            effect=rule["effect"],
            permission=rule["permission"],
            scope=rule["scope"],
            condition=rule.get("condition"),
            fields=rule.get("fields") or {},
            **owner,
        )
        for i, rule in enumerate(rules)
    ]


def _stored_rules(rows) -> list[dict[str, Any]]:
    return [
        {
            "effect": r.effect,
            "permission": r.permission,
            "scope": r.scope,
            "condition": r.condition,
            "fields": r.fields or {},
        }
        for r in rows
    ]


def parents_validate(*, tenant: Tenant, slugs: Iterable[str], role: Role | None = None) -> list:
    """The parent roles named by `slugs`; 422 for an unknown slug or an inheritance cycle."""
    slugs = list(dict.fromkeys(slugs or ()))
    parents = list(Role.objects.filter(tenant=tenant, slug__in=slugs))
    unknown = sorted(set(slugs) - {p.slug for p in parents})
    if unknown:
        raise _invalid("parents", f"Unknown role(s): {', '.join(unknown)}.", "not_found")
    if role is None:
        return parents
    graph: dict[str, list[str]] = {}
    edges = Role.parents.through.objects.filter(from_role__tenant=tenant).values_list(
        "from_role__slug", "to_role__slug"
    )
    for child, parent in edges:
        graph.setdefault(child, []).append(parent)
    graph[role.slug] = slugs
    cycle = find_role_cycle(graph)
    if cycle is not None:
        raise _invalid(
            "parents",
            f"These parents would form an inheritance cycle: {' > '.join(cycle)}.",
            "cycle",
        )
    return parents


def _future(moment: datetime | None, where: str, now: datetime) -> None:
    if moment is None:
        return
    if moment.tzinfo is None:
        raise _invalid(where, "Give a timezone-aware time.")
    if moment <= now:
        raise _invalid(where, "Must be in the future.")


def _same_tenant(tenant_id, *objects) -> None:
    for obj in objects:
        if obj is not None and obj.tenant_id != tenant_id:
            raise NotFound("Not found")
