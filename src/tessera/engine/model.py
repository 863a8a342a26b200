"""The engine's input values: rules, roles, grants, and the subject/resource/context of a check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tessera.engine.errors import PolicyError

Effect = Literal["allow", "deny"]
Scope = Literal["all", "own", "team", "department"]
Via = Literal["assignment", "delegation"]

EFFECTS: frozenset[str] = frozenset({"allow", "deny"})
SCOPES: frozenset[str] = frozenset({"all", "own", "team", "department"})
VIAS: frozenset[str] = frozenset({"assignment", "delegation"})


@dataclass(frozen=True, slots=True)
class FieldAccess:
    """What a rule says about one field of a resource."""

    read: bool
    write: bool


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as stored: a role's rule, a membership override, or a delegated permission."""

    effect: Effect
    permission: str
    scope: Scope = "all"
    condition: Mapping[str, Any] | None = None
    fields: Mapping[str, FieldAccess] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The rule in the API's JSON form (see `rule_from_json` for the way back)."""
        return {
            "effect": self.effect,
            "permission": self.permission,
            "scope": self.scope,
            "condition": self.condition,
            "fields": {
                name: {"read": access.read, "write": access.write}
                for name, access in self.fields.items()
            },
        }


@dataclass(frozen=True, slots=True)
class RoleDef:
    """A role of the tenant: its parents (whose rules it inherits) and its own rules."""

    slug: str
    parents: tuple[str, ...]
    rules: tuple[RuleSpec, ...]


@dataclass(frozen=True, slots=True)
class HeldRole:
    """A role the membership holds, by assignment or by delegation, in an optional time window."""

    slug: str
    via: Via
    source_id: str
    not_before: datetime | None = None
    not_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class DelegatedRules:
    """Permissions delegated directly (not as a role) for a time window."""

    delegation_id: str
    rules: tuple[RuleSpec, ...]
    not_before: datetime | None = None
    not_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class GrantSpec:
    """An object-level grant: allows `permission` on exactly one resource."""

    grant_id: str
    permission: str
    resource_type: str
    resource_id: str
    not_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class PolicyInput:
    """Everything `compile_policy` needs for one (tenant, membership)."""

    tenant_id: str
    membership_id: str
    roles: Mapping[str, RoleDef]
    held: tuple[HeldRole, ...] = ()
    overrides: tuple[RuleSpec, ...] = ()
    delegated: tuple[DelegatedRules, ...] = ()
    grants: tuple[GrantSpec, ...] = ()
    version: str = ""


@dataclass(frozen=True, slots=True)
class Qualification:
    """A qualification record the subject holds (never a revoked one): its type's code, its level
    (approval authority 1-5) and its validity window, `valid_from <= now < valid_until`."""

    code: str
    level: int
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """Who asks: the member, with the organisational facts conditions may use."""

    user_id: str
    membership_id: str
    tenant_id: str
    department: str | None = None
    clearance_level: int = 0
    manager_chain: tuple[str, ...] = ()
    team: frozenset[str] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    qualifications: tuple[Qualification, ...] = ()


@dataclass(frozen=True, slots=True)
class Resource:
    """What is acted on. Only `type` is required; scopes need `owner_id` or `department`."""

    type: str
    id: str | None = None
    owner_id: str | None = None
    department: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """The circumstances of the request. `now` must be timezone-aware."""

    now: datetime
    ip: str | None = None
    mfa_verified: bool = False
    risk_score: float = 0.0
    device_trusted: bool = False
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise PolicyError("context.now must be a timezone-aware datetime", field="context.now")
