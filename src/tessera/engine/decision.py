"""What the engine answers: decisions (with their explanation), rule sources, field sets."""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from tessera.engine.conditions import ConditionResult
from tessera.engine.model import Effect, FieldAccess, Scope, Via

SourceKind = Literal["role", "override", "delegation", "grant"]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True, slots=True)
class RuleSource:
    """Where a rule comes from.

    - role: `path` runs from the held role to the role defining the rule (`("manager", "member")`),
      `via` says how the held role is held, `source_id` is the assignment or delegation id;
    - override: a membership-level rule (`source_id` is the membership id);
    - delegation: a directly delegated permission (`source_id` is the delegation id);
    - grant: an object-level grant (`source_id` is the grant id).
    `index` is the rule's position in its role, override list or delegation (0 for grants).
    """

    kind: SourceKind
    source_id: str
    path: tuple[str, ...] = ()
    via: Via | None = None
    index: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": list(self.path),
            "via": self.via,
            "source_id": self.source_id,
            "index": self.index,
        }

    def describe(self) -> str:
        """Human-readable origin, used in decision reasons."""
        if self.kind == "role":
            text = f"role {self.path[-1]}"
            if len(self.path) > 1:
                text += f" (inherited via {' > '.join(self.path)})"
            if self.via == "delegation":
                text += f" (held through delegation {self.source_id})"
            return text
        if self.kind == "override":
            return "override"
        return f"{self.kind} {self.source_id}"


@dataclass(frozen=True, slots=True)
class MatchedRule:
    """A rule as the engine reports it: what it says, where it comes from, when it is in force.

    Grants appear as allow rules with scope `all` and `resource_type`/`resource_id` set.
    """

    effect: Effect
    permission: str
    scope: Scope
    source: RuleSource
    condition: dict[str, Any] | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    fields: Mapping[str, FieldAccess] = field(default_factory=dict)

    @property
    def field_level(self) -> bool:
        """A deny with a field map: it hides fields and does not deny the action."""
        return self.effect == "deny" and bool(self.fields)

    def to_json(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "permission": self.permission,
            "scope": self.scope,
            "condition": deepcopy(self.condition),
            "fields": {
                name: {"read": access.read, "write": access.write}
                for name, access in self.fields.items()
            },
            "source": self.source.to_json(),
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "resource": None
            if self.resource_type is None
            else {"type": self.resource_type, "id": self.resource_id},
        }

    def describe(self) -> str:
        if self.source.kind == "grant":
            return f"grant {self.source.source_id}"
        return f"{self.source.describe()} rule {self.permission}"


PermissionSource: TypeAlias = MatchedRule
"""An entry of `effective_permissions`: a rule in force with its source."""


@dataclass(frozen=True, slots=True)
class EvaluatedRule:
    """One candidate rule looked at while explaining a decision, with each part's result."""

    rule: MatchedRule
    in_window: bool
    scope_admits: bool
    condition: ConditionResult | None
    applies: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.to_json(),
            "in_window": self.in_window,
            "scope_admits": self.scope_admits,
            "condition": None if self.condition is None else self.condition.to_json(),
            "applies": self.applies,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a check. A deny is a value, never an exception."""

    allowed: bool
    reason: str
    matched: tuple[MatchedRule, ...]
    evaluated: tuple[EvaluatedRule, ...]
    policy_version: str

    def to_json(self) -> dict[str, Any]:
        """Stable JSON: always these keys in this order; datetimes in ISO 8601."""
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "matched": [rule.to_json() for rule in self.matched],
            "evaluated": [each.to_json() for each in self.evaluated],
            "policy_version": self.policy_version,
        }


ALL_FIELDS = "*"


@dataclass(frozen=True, slots=True)
class FieldSets:
    """Fields a subject may read and write on a resource type.

    `readable`/`writable` hold field names, or `"*"` for every field; `unreadable`/`unwritable`
    hold the fields removed by `{"read": false}` / `{"write": false}` entries (the exceptions to
    `*`).
    Use `can_read` / `can_write` rather than testing membership directly.
    """

    readable: frozenset[str]
    writable: frozenset[str]
    unreadable: frozenset[str] = frozenset()
    unwritable: frozenset[str] = frozenset()

    def can_read(self, name: str) -> bool:
        return _permits(self.readable, self.unreadable, name)

    def can_write(self, name: str) -> bool:
        return _permits(self.writable, self.unwritable, name)

    def to_json(self) -> dict[str, Any]:
        return {
            "readable": sorted(self.readable),
            "writable": sorted(self.writable),
            "unreadable": sorted(self.unreadable),
            "unwritable": sorted(self.unwritable),
        }


def _permits(granted: frozenset[str], removed: frozenset[str], name: str) -> bool:
    if name in removed:
        return False
    return name in granted or ALL_FIELDS in granted
