"""Rules and grants: validation of stored rules and their compiled, ready-to-evaluate form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from tessera.engine.conditions import Condition, compile_condition
from tessera.engine.decision import Decision, MatchedRule, RuleSource
from tessera.engine.errors import ConditionError, PolicyError
from tessera.engine.model import (
    EFFECTS,
    SCOPES,
    Context,
    FieldAccess,
    GrantSpec,
    Resource,
    RuleSpec,
    Subject,
)
from tessera.engine.permissions import validate_permission
from tessera.engine.qualifications import misplaced_qualification

RULE_KEYS: Final = frozenset({"effect", "permission", "scope", "condition", "fields"})
_FIELD_FLAGS: Final = frozenset({"read", "write"})


# --- validation of stored rules -----------------------------------------------------------------


def validate_rule(spec: RuleSpec) -> RuleSpec:
    """Return `spec` if it is a valid rule (effect, permission, scope, condition, fields)."""
    check_rule(spec, "rule")
    return spec


def rule_from_json(data: Mapping[str, Any]) -> RuleSpec:
    """Build a validated `RuleSpec` from the API's JSON form of a rule."""
    if not isinstance(data, Mapping):
        raise PolicyError("a rule must be an object")
    unknown = sorted(set(data) - RULE_KEYS)
    if unknown:
        raise PolicyError(f"unknown rule key(s): {', '.join(unknown)}", field=unknown[0])
    raw_fields = data.get("fields")
    if raw_fields is None:
        raw_fields = {}
    if not isinstance(raw_fields, Mapping):
        raise PolicyError("rule fields must be an object", field="fields")
    fields: dict[str, FieldAccess] = {}
    for name, flags in raw_fields.items():
        if (
            not isinstance(flags, Mapping)
            or not set(flags) <= _FIELD_FLAGS
            or not all(isinstance(flag, bool) for flag in flags.values())
        ):
            raise PolicyError(
                f"field {name!r} must be {{'read': bool, 'write': bool}}", field="fields"
            )
        fields[name] = FieldAccess(read=flags.get("read", False), write=flags.get("write", False))
    spec = RuleSpec(
        effect=data.get("effect"),  # type: ignore[arg-type]  # validated below
        permission=data.get("permission"),  # type: ignore[arg-type]
        scope=data.get("scope", "all"),
        condition=data.get("condition"),
        fields=fields,
    )
    return validate_rule(spec)


def check_rule(spec: RuleSpec, where: str) -> Condition | None:
    """Validate a rule and return its compiled condition; errors are prefixed with `where`."""
    if not isinstance(spec.effect, str) or spec.effect not in EFFECTS:
        raise PolicyError(
            f"{where}: bad effect {spec.effect!r} (expected 'allow' or 'deny')", field="effect"
        )
    try:
        validate_permission(spec.permission)
    except PolicyError as error:
        raise PolicyError(f"{where}: {error.detail}", field="permission") from None
    if not isinstance(spec.scope, str) or spec.scope not in SCOPES:
        raise PolicyError(
            f"{where}: bad scope {spec.scope!r} (expected one of {', '.join(sorted(SCOPES))})",
            field="scope",
        )
    if not isinstance(spec.fields, Mapping) or not all(
        isinstance(name, str) and name and isinstance(access, FieldAccess)
        for name, access in spec.fields.items()
    ):
        raise PolicyError(f"{where}: fields must map field names to FieldAccess", field="fields")
    if spec.condition is None:
        return None
    try:
        condition = compile_condition(spec.condition)
    except ConditionError as error:
        raise ConditionError(
            f"{where}: {error.detail}", path=error.path, field="condition"
        ) from None
    misplaced = misplaced_qualification(condition.tree, spec.effect)
    if misplaced is not None:
        raise ConditionError(
            f"{where}: 'has_qualification' may only give access: use it un-negated in an allow "
            f"rule or negated in a deny rule (at {misplaced})",
            path=misplaced,
            field="condition",
        )
    return condition


def check_aware(moment: datetime | None, where: str) -> None:
    """Refuse naive datetimes in time windows."""
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        raise PolicyError(f"{where} must be a timezone-aware datetime")


# --- compiled rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate, with its report form and the decision it makes when it decides."""

    info: MatchedRule
    effect: str
    permission: str
    scope: str
    condition: Condition | None
    not_before: datetime | None
    not_after: datetime | None
    windowed: bool
    unconditional: bool
    field_only: bool
    fields: Mapping[str, FieldAccess]
    decision: Decision
    seq: int


def compile_rule(
    spec: RuleSpec,
    *,
    source: RuleSource,
    not_before: datetime | None,
    not_after: datetime | None,
    version: str,
    seq: int,
    condition: Condition | None,
) -> CompiledRule:
    """Compile one rule from one source; `check_rule` validated it and gave `condition`."""
    info = MatchedRule(
        effect=spec.effect,
        permission=spec.permission,
        scope=spec.scope,
        source=source,
        condition=None if condition is None else condition.tree,
        not_before=not_before,
        not_after=not_after,
        fields=dict(spec.fields),
    )
    windowed = not_before is not None or not_after is not None
    verb = "allowed" if spec.effect == "allow" else "denied"
    return CompiledRule(
        info=info,
        effect=spec.effect,
        permission=spec.permission,
        scope=spec.scope,
        condition=condition,
        not_before=not_before,
        not_after=not_after,
        windowed=windowed,
        unconditional=not windowed and spec.scope == "all" and condition is None,
        field_only=info.field_level,
        fields=info.fields,
        decision=Decision(
            spec.effect == "allow", f"{verb} by {info.describe()}", (info,), (), version
        ),
        seq=seq,
    )


@dataclass(frozen=True, slots=True)
class CompiledGrant:
    """An object-level grant ready to evaluate."""

    info: MatchedRule
    permission: str
    resource_type: str
    resource_id: str
    not_after: datetime | None
    decision: Decision


def compile_grant(grant: GrantSpec, *, version: str, where: str) -> CompiledGrant:
    try:
        validate_permission(grant.permission)
    except PolicyError as error:
        raise PolicyError(f"{where}: {error.detail}", field="permission") from None
    for name in ("grant_id", "resource_type", "resource_id"):
        value = getattr(grant, name)
        if not isinstance(value, str) or not value:
            raise PolicyError(f"{where}: {name} must be a non-empty string", field=name)
    check_aware(grant.not_after, f"{where}: not_after")
    info = MatchedRule(
        effect="allow",
        permission=grant.permission,
        scope="all",
        source=RuleSource("grant", grant.grant_id),
        not_after=grant.not_after,
        resource_type=grant.resource_type,
        resource_id=grant.resource_id,
    )
    decision = Decision(True, f"allowed by {info.describe()}", (info,), (), version)
    return CompiledGrant(
        info, grant.permission, grant.resource_type, grant.resource_id, grant.not_after, decision
    )


# --- evaluation of one rule ---------------------------------------------------------------------


def in_window(not_before: datetime | None, not_after: datetime | None, now: datetime) -> bool:
    """`not_before <= now < not_after`, each bound optional."""
    if not_before is not None and now < not_before:
        return False
    return not_after is None or now < not_after


def scope_admits(scope: str, subject: Subject, resource: Resource | None) -> bool:
    """Whether a rule's scope covers the resource (without a resource only `all` does)."""
    if scope == "all":
        return True
    if resource is None:
        return False
    if scope == "own":
        return resource.owner_id is not None and resource.owner_id == subject.user_id
    if scope == "team":
        owner = resource.owner_id
        return owner is not None and (owner == subject.user_id or owner in subject.team)
    return resource.department is not None and resource.department == subject.department


def applies(
    rule: CompiledRule, subject: Subject, resource: Resource | None, context: Context
) -> bool:
    """Whether the rule's window is open, its scope admits the resource and its condition holds."""
    if rule.windowed and not in_window(rule.not_before, rule.not_after, context.now):
        return False
    if rule.scope != "all" and not scope_admits(rule.scope, subject, resource):
        return False
    condition = rule.condition
    return condition is None or condition.evaluate(subject, resource, context)
