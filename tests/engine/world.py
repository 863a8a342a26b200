"""Builders for the engine's tests: a policy, a subject, a resource or a context in one line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tessera.engine import (
    CompiledPolicy,
    Context,
    Decision,
    DelegatedRules,
    FieldAccess,
    GrantSpec,
    HeldRole,
    PolicyInput,
    Resource,
    RoleDef,
    RuleSpec,
    Subject,
    compile_policy,
    decide,
)

NOW = datetime(2024, 5, 15, 10, 0, tzinfo=UTC)  # a Wednesday
TICK = timedelta(microseconds=1)
TENANT, MEMBERSHIP, USER = "t1", "m1", "alice"


def allow(permission: str, **kw: Any) -> RuleSpec:
    return rule("allow", permission, **kw)


def deny(permission: str, **kw: Any) -> RuleSpec:
    return rule("deny", permission, **kw)


def rule(
    effect: str,
    permission: str,
    *,
    scope: str = "all",
    condition: Mapping[str, Any] | None = None,
    fields: Mapping[str, tuple[bool, bool]] | None = None,
) -> RuleSpec:
    access = {name: FieldAccess(read, write) for name, (read, write) in (fields or {}).items()}
    return RuleSpec(effect, permission, scope, condition, access)  # type: ignore[arg-type]


def role(slug: str, *rules: RuleSpec, parents: Iterable[str] = ()) -> RoleDef:
    return RoleDef(slug, tuple(parents), rules)


def holding(
    slug: str,
    *,
    via: str = "assignment",
    source_id: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> HeldRole:
    return HeldRole(slug, via, source_id or f"as-{slug}", not_before, not_after)  # type: ignore[arg-type]


def delegation(
    delegation_id: str,
    *rules: RuleSpec,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> DelegatedRules:
    return DelegatedRules(delegation_id, rules, not_before, not_after)


def grant(
    grant_id: str, permission: str, resource_type: str, resource_id: str, **kw: Any
) -> GrantSpec:
    return GrantSpec(grant_id, permission, resource_type, resource_id, **kw)


def policy_input(
    roles: Iterable[RoleDef] = (),
    held: Iterable[HeldRole | str] = (),
    overrides: Iterable[RuleSpec] = (),
    delegated: Iterable[DelegatedRules] = (),
    grants: Iterable[GrantSpec] = (),
    version: str = "t1.m1",
) -> PolicyInput:
    return PolicyInput(
        tenant_id=TENANT,
        membership_id=MEMBERSHIP,
        roles={r.slug: r for r in roles},
        held=tuple(holding(h) if isinstance(h, str) else h for h in held),
        overrides=tuple(overrides),
        delegated=tuple(delegated),
        grants=tuple(grants),
        version=version,
    )


def policy(
    roles: Iterable[RoleDef] = (),
    held: Iterable[HeldRole | str] = (),
    overrides: Iterable[RuleSpec] = (),
    delegated: Iterable[DelegatedRules] = (),
    grants: Iterable[GrantSpec] = (),
    version: str = "t1.m1",
) -> CompiledPolicy:
    return compile_policy(policy_input(roles, held, overrides, delegated, grants, version))


def member(*rules: RuleSpec, **kw: Any) -> CompiledPolicy:
    """A policy whose member holds one role, `r`, with these rules."""
    return policy([role("r", *rules)], ["r"], **kw)


def subject(user_id: str = USER, **kw: Any) -> Subject:
    return Subject(user_id, MEMBERSHIP, TENANT, **kw)


def context(now: datetime = NOW, **kw: Any) -> Context:
    return Context(now, **kw)


def doc(
    id: str | None = "d1",
    owner_id: str | None = None,
    department: str | None = None,
    **attributes: Any,
) -> Resource:
    return Resource("doc", id, owner_id, department, attributes)


def check(
    compiled: CompiledPolicy,
    action: str,
    resource: Resource | None = None,
    who: Subject | None = None,
    ctx: Context | None = None,
) -> Decision:
    """`decide` through the fast path, after asserting that the explaining path agrees with it."""
    who = who or subject()
    ctx = ctx or context()
    fast = decide(compiled, who, action, resource, ctx)
    explained = decide(compiled, who, action, resource, ctx, explain=True)
    assert fast.evaluated == ()
    assert (explained.allowed, explained.reason, explained.matched) == (
        fast.allowed,
        fast.reason,
        fast.matched,
    )
    return fast


def allowed(
    compiled: CompiledPolicy,
    action: str,
    resource: Resource | None = None,
    who: Subject | None = None,
    ctx: Context | None = None,
) -> bool:
    return check(compiled, action, resource, who, ctx).allowed
