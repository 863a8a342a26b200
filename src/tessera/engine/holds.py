"""No one hands out more than they hold: the one rule deciding "covers" and "holds".

Every path that gives access (grants, delegations, role assignments, overrides, role rules, API-key
scopes, service accounts) and every path that acts on another member (the target's effective
permissions must lie within the actor's) asks these functions, and nothing else.

Permissions (`permission_covers`): `*:*` covers everything, `res:*` covers `res:*` and every
`res:<verb>`, a concrete permission covers itself. Two patterns overlap only when one covers the
other (`permission_meet` is then the narrower one).

Rules (`rules_within(held, wanted)`): the wanted allows that the held rules do not cover (empty:
the wanted set lies within the held one). A wanted allow is covered when

1. one held allow covers it: its permission covers the wanted one; its scope covers the wanted
   scope (`all` covers every scope, `team` covers `own`, otherwise only the same scope); it is
   unconditional or has exactly the same condition; it is not bound to one object, or is bound to
   the same object (a wanted allow bound to an object is a grant, which needs an unconditional
   held allow of scope `all` or a grant on that object); its field map grants every field the
   wanted one grants (no map: every field); and it ends no earlier (`not_after`, None = never).
   Starts are not compared: held rules are those in force now, wanted ones begin now or later.
2. every held *restriction* that overlaps it is carried over: a held deny (of any scope,
   condition or window — while it may apply, the holder lacks the permission), or a held rule
   whose field map hides fields (`false` flags remove a field whatever else allows it). It is
   carried over when a wanted rule restricts at least as much — its permission covers the
   overlap, its scope covers the restriction's, it is unconditional or has the same condition, it
   ends no earlier, and it is a whole-action deny or hides at least the same fields — or, for a
   field restriction, when the wanted allow grants none of the hidden fields.

Wanted denies never need covering: they only take away. They matter as restrictions (point 2):
so handing out `doc:*` minus `doc:delete` is within a holder of exactly that, and removing
someone's deny (replacing their overrides) widens them — the path that does it checks the
target's resulting rules like any other gift.

API-key scopes (`scopes_not_held`) are ceilings, not gifts: a key acts with the intersection of
its scopes and its owner's live policy. A scope is held when some allow of any scope or condition
covers it and no unconditional deny of scope `all` overlaps it; object-level grants do not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from tessera.engine.model import FieldAccess, RuleSpec
from tessera.engine.permissions import ANY_PERMISSION, WILDCARD

_SCOPE_COVERS: Mapping[str, frozenset[str]] = {
    "all": frozenset({"all", "own", "team", "department"}),
    "team": frozenset({"team", "own"}),
    "own": frozenset({"own"}),
    "department": frozenset({"department"}),
}
_FLAGS = ("read", "write")


class RuleLike(Protocol):
    """A rule as these functions read it: an `Entitlement`, or a `MatchedRule` (an entry of
    `effective_permissions`)."""

    @property
    def effect(self) -> str: ...

    @property
    def permission(self) -> str: ...

    @property
    def scope(self) -> str: ...

    @property
    def condition(self) -> Mapping[str, Any] | None: ...

    @property
    def fields(self) -> Mapping[str, FieldAccess]: ...

    @property
    def not_after(self) -> datetime | None: ...

    @property
    def resource_type(self) -> str | None: ...

    @property
    def resource_id(self) -> str | None: ...


R = TypeVar("R", bound=RuleLike)


@dataclass(frozen=True, slots=True)
class Entitlement:
    """A rule to be handed out (or held): what it allows or denies, until when, on what."""

    effect: str
    permission: str
    scope: str = "all"
    condition: Mapping[str, Any] | None = None
    fields: Mapping[str, FieldAccess] = field(default_factory=dict)
    not_after: datetime | None = None
    resource_type: str | None = None
    resource_id: str | None = None

    @classmethod
    def of_rule(cls, spec: RuleSpec, *, not_after: datetime | None = None) -> Entitlement:
        """A stored rule (role, override, delegated permission) given until `not_after`."""
        return cls(spec.effect, spec.permission, spec.scope, spec.condition, spec.fields, not_after)

    @classmethod
    def grant(
        cls, permission: str, resource_type: str, resource_id: str, not_after: datetime | None
    ) -> Entitlement:
        """An object-level grant: an unconditional allow of scope `all` on one object."""
        return cls(
            "allow",
            permission,
            not_after=not_after,
            resource_type=resource_type,
            resource_id=resource_id,
        )


# --- permissions --------------------------------------------------------------------------------


def permission_covers(held: str, wanted: str) -> bool:
    """Whether the pattern `held` covers `wanted` (itself a permission or a pattern)."""
    if held in (ANY_PERMISSION, wanted):
        return True
    resource, _, verb = held.partition(":")
    return verb == WILDCARD and wanted != ANY_PERMISSION and wanted.partition(":")[0] == resource


def permission_meet(a: str, b: str) -> str | None:
    """The permissions both patterns cover (the narrower one), or None when they are disjoint."""
    if permission_covers(a, b):
        return b
    if permission_covers(b, a):
        return a
    return None


def scope_covers(held: str, wanted: str) -> bool:
    """Whether a rule of scope `held` admits everything one of scope `wanted` admits."""
    return wanted in _SCOPE_COVERS.get(held, frozenset({held}))


def _lasts(outer: datetime | None, inner: datetime | None) -> bool:
    """Whether a window ending at `outer` lasts at least as long as one ending at `inner`."""
    return outer is None or (inner is not None and inner <= outer)


# --- fields -------------------------------------------------------------------------------------


def _grants(fields: Mapping[str, FieldAccess], name: str, flag: str) -> bool:
    """Whether a rule's field map grants `name` (no map grants every field)."""
    if not fields:
        return True
    if name in fields:
        return bool(getattr(fields[name], flag))
    return "*" in fields and bool(getattr(fields["*"], flag))


def _hidden(fields: Mapping[str, FieldAccess], flag: str) -> frozenset[str]:
    """The fields a rule's map removes (its `false` flags)."""
    return frozenset(name for name, access in fields.items() if not getattr(access, flag))


def _fields_within(held: Mapping[str, FieldAccess], wanted: Mapping[str, FieldAccess]) -> bool:
    """Whether a held allow's field map grants every field the wanted allow's map grants."""
    for flag in _FLAGS:
        granted = [name for name in wanted if name != "*" and _grants(wanted, name, flag)]
        if not all(_grants(held, name, flag) for name in granted):
            return False
        if _grants(wanted, "*", flag) and not (
            _grants(held, "*", flag) and _hidden(held, flag) <= _hidden(wanted, flag)
        ):
            return False
    return True


# --- rules --------------------------------------------------------------------------------------


def _bound(rule: RuleLike) -> bool:
    return rule.resource_type is not None


def _allow_covers(held: RuleLike, wanted: RuleLike) -> bool:
    if not permission_covers(held.permission, wanted.permission):
        return False
    if _bound(held) and (held.resource_type, held.resource_id) != (
        wanted.resource_type,
        wanted.resource_id,
    ):
        return False
    return (
        scope_covers(held.scope, wanted.scope)
        and (held.condition is None or held.condition == wanted.condition)
        and _fields_within(held.fields, wanted.fields)
        and _lasts(held.not_after, wanted.not_after)
    )


def _restricts(rule: RuleLike) -> bool:
    """A deny, or any rule whose field map removes a field."""
    return rule.effect == "deny" or any(_hidden(rule.fields, flag) for flag in _FLAGS)


def _whole_deny(rule: RuleLike) -> bool:
    return rule.effect == "deny" and not rule.fields


def _carries(wanted: RuleLike, restriction: RuleLike, overlap: str) -> bool:
    """Whether a wanted rule restricts at least as much as a held restriction (on `overlap`)."""
    if not (
        permission_covers(wanted.permission, overlap)
        and scope_covers(wanted.scope, restriction.scope)
        and (wanted.condition is None or wanted.condition == restriction.condition)
        and _lasts(wanted.not_after, restriction.not_after)
    ):
        return False
    if _whole_deny(wanted):
        return True
    if _whole_deny(restriction):
        return False
    return all(_hidden(restriction.fields, f) <= _hidden(wanted.fields, f) for f in _FLAGS)


def _restriction_kept(
    allow: RuleLike, restriction: RuleLike, wanted_restrictions: Sequence[RuleLike]
) -> bool:
    overlap = permission_meet(allow.permission, restriction.permission)
    if overlap is None:
        return True
    if not _whole_deny(restriction) and not any(
        _grants(allow.fields, name, flag)
        for flag in _FLAGS
        for name in _hidden(restriction.fields, flag)
    ):
        return True
    return any(_carries(w, restriction, overlap) for w in wanted_restrictions)


def rules_within(held: Iterable[RuleLike], wanted: Iterable[R]) -> list[R]:
    """The wanted allows not covered by the held rules, in order (empty: `wanted` is within).

    `held` are the rules in force for the holder now (e.g. `effective_permissions`); `wanted` are
    the rules handed out (with their `not_after`) or a target's rules in force. See the module.
    """
    held = list(held)
    wanted = list(wanted)
    held_allows = [r for r in held if r.effect == "allow"]
    held_restrictions = [r for r in held if _restricts(r)]
    wanted_restrictions = [r for r in wanted if _restricts(r)]
    lacking = []
    for rule in wanted:
        if rule.effect != "allow":
            continue
        covered = any(_allow_covers(h, rule) for h in held_allows) and all(
            _restriction_kept(rule, r, wanted_restrictions) for r in held_restrictions
        )
        if not covered:
            lacking.append(rule)
    return lacking


def scopes_not_held(held: Iterable[RuleLike], scopes: Iterable[str]) -> list[str]:
    """The API-key scopes the holder does not hold (see the module: scopes are ceilings)."""
    held = [r for r in held if not _bound(r)]
    allows = [r.permission for r in held if r.effect == "allow"]
    denies = [
        r.permission for r in held if _whole_deny(r) and r.scope == "all" and r.condition is None
    ]
    return [
        scope
        for scope in scopes
        if not any(permission_covers(a, scope) for a in allows)
        or any(permission_meet(d, scope) is not None for d in denies)
    ]
