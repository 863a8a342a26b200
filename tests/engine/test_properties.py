"""Invariants of the engine, stated as properties over generated policies and requests."""

from __future__ import annotations

import pickle
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.engine import (
    GrantSpec,
    HeldRole,
    PolicyInput,
    Resource,
    RoleDef,
    RuleSpec,
    compile_policy,
    decide,
)
from tests.engine.world import MEMBERSHIP, NOW, TENANT, context, subject

RESOURCES = ["doc", "user"]
VERBS = ["read", "update", "delete"]
ACTIONS = [f"{r}:{v}" for r in RESOURCES for v in VERBS]
USERS = ["alice", "bob", "carol"]
DEPARTMENTS = ["sales", "ops", None]
CONDITIONS: list[dict[str, Any] | None] = [
    None,
    {"mfa_verified": True},
    {"risk_below": 50},
    {"same_department": True},
    {"not": {"trusted_device": True}},
    {"any": [{"mfa_verified": True}, {"eq": ["resource.owner_id", "subject.user_id"]}]},
    {"time_between": ["08:00", "12:00"]},
    {"in": ["resource.department", ["sales"]]},
]

permissions = st.sampled_from(["*:*"] + [f"{r}:*" for r in RESOURCES] + ACTIONS)
rules = st.builds(
    RuleSpec,
    effect=st.sampled_from(["allow", "deny"]),
    permission=permissions,
    scope=st.sampled_from(["all", "own", "team", "department"]),
    condition=st.sampled_from(CONDITIONS),
)
windows = st.sampled_from(
    [(None, None), (NOW, None), (None, NOW), (NOW - timedelta(hours=1), NOW + timedelta(hours=1))]
)
ROLE_SLUGS = ["r0", "r1", "r2", "r3"]


allow_rules = rules.map(lambda r: RuleSpec("allow", r.permission, r.scope, r.condition))


@st.composite
def role_sets(
    draw: st.DrawFn, role_rules: st.SearchStrategy[RuleSpec] = rules
) -> dict[str, RoleDef]:
    """Roles whose parents are always later in ROLE_SLUGS, so the graph has no cycle."""
    roles = {}
    for i, slug in enumerate(ROLE_SLUGS):
        later = ROLE_SLUGS[i + 1 :]
        parents = draw(st.lists(st.sampled_from(later), unique=True, max_size=2)) if later else []
        roles[slug] = RoleDef(slug, tuple(parents), tuple(draw(st.lists(role_rules, max_size=3))))
    return roles


@st.composite
def held_roles(draw: st.DrawFn) -> tuple[HeldRole, ...]:
    held = []
    for n in range(draw(st.integers(0, 3))):
        not_before, not_after = draw(windows)
        slug = draw(st.sampled_from(ROLE_SLUGS))
        held.append(
            HeldRole(
                slug,
                draw(st.sampled_from(["assignment", "delegation"])),
                f"h{n}",
                not_before,
                not_after,
            )
        )
    return tuple(held)


grants = st.lists(
    st.builds(
        GrantSpec,
        grant_id=st.sampled_from(["g1", "g2"]),
        permission=permissions,
        resource_type=st.sampled_from(RESOURCES),
        resource_id=st.sampled_from(["1", "2"]),
        not_after=st.sampled_from([None, NOW, NOW + timedelta(hours=1)]),
    ),
    max_size=2,
)


@st.composite
def inputs(draw: st.DrawFn, role_rules: st.SearchStrategy[RuleSpec] = rules) -> PolicyInput:
    return PolicyInput(
        tenant_id=TENANT,
        membership_id=MEMBERSHIP,
        roles=draw(role_sets(role_rules)),
        held=draw(held_roles()),
        overrides=tuple(draw(st.lists(rules, max_size=2))),
        delegated=(),
        grants=tuple(draw(grants)),
        version="v",
    )


resources = st.one_of(
    st.none(),
    st.builds(
        Resource,
        type=st.sampled_from(RESOURCES),
        id=st.sampled_from([None, "1", "2"]),
        owner_id=st.sampled_from([None, *USERS]),
        department=st.sampled_from(DEPARTMENTS),
    ),
)
subjects = st.builds(
    subject,
    user_id=st.sampled_from(USERS),
    department=st.sampled_from(DEPARTMENTS),
    team=st.sampled_from([frozenset(), frozenset({"bob"}), frozenset({"bob", "carol"})]),
)
contexts = st.builds(
    context,
    now=st.sampled_from(
        [NOW - timedelta(hours=3), NOW - timedelta(microseconds=1), NOW, NOW + timedelta(hours=2)]
    ),
    mfa_verified=st.booleans(),
    risk_score=st.sampled_from([0.0, 49.0, 50.0, 90.0]),
    device_trusted=st.booleans(),
)
requests = st.tuples(st.sampled_from(ACTIONS), resources, subjects, contexts)


def allowed_set(inp: PolicyInput, asked: list[tuple[Any, ...]]) -> set[int]:
    compiled = compile_policy(inp)
    return {
        i
        for i, (action, resource, who, ctx) in enumerate(asked)
        if decide(compiled, who, action, resource, ctx).allowed
    }


@settings(max_examples=200, deadline=None)
@given(inputs(), rules, st.lists(requests, min_size=1, max_size=8))
def test_adding_a_deny_rule_never_turns_a_deny_into_an_allow(inp, extra, asked):
    denied_rule = RuleSpec("deny", extra.permission, extra.scope, extra.condition)
    more = PolicyInput(
        inp.tenant_id,
        inp.membership_id,
        inp.roles,
        inp.held,
        (*inp.overrides, denied_rule),
        inp.delegated,
        inp.grants,
        inp.version,
    )
    assert allowed_set(more, asked) <= allowed_set(inp, asked)


def without_held(inp: PolicyInput, drop: int) -> PolicyInput:
    return PolicyInput(
        inp.tenant_id,
        inp.membership_id,
        inp.roles,
        inp.held[:drop] + inp.held[drop + 1 :],
        inp.overrides,
        inp.delegated,
        inp.grants,
        inp.version,
    )


def carries_a_deny(slug: str, roles: dict[str, RoleDef]) -> bool:
    role = roles[slug]
    return any(r.effect == "deny" for r in role.rules) or any(
        carries_a_deny(parent, roles) for parent in role.parents
    )


@settings(max_examples=200, deadline=None)
@given(inputs(role_rules=allow_rules), st.data(), st.lists(requests, min_size=1, max_size=8))
def test_removing_a_held_role_never_adds_a_permission(inp, data, asked):
    """With roles that only allow (denies come from overrides), fewer roles allow no more."""
    if not inp.held:
        return
    drop = data.draw(st.integers(0, len(inp.held) - 1))
    assert allowed_set(without_held(inp, drop), asked) <= allowed_set(inp, asked)


@settings(max_examples=200, deadline=None)
@given(inputs(), st.data(), st.lists(requests, min_size=1, max_size=8))
def test_removing_a_held_role_without_denies_never_adds_a_permission(inp, data, asked):
    """With roles that also deny: dropping a role whose inheritance carries no deny allows no
    more. (Dropping a role that carries a deny may of course allow more: deny overrides.)"""
    droppable = [i for i, h in enumerate(inp.held) if not carries_a_deny(h.slug, inp.roles)]
    if not droppable:
        return
    drop = data.draw(st.sampled_from(droppable))
    assert allowed_set(without_held(inp, drop), asked) <= allowed_set(inp, asked)


@settings(max_examples=300, deadline=None)
@given(inputs(), requests)
def test_explaining_never_changes_the_decision(inp, request):
    action, resource, who, ctx = request
    compiled = compile_policy(inp)
    fast = decide(compiled, who, action, resource, ctx)
    explained = decide(compiled, who, action, resource, ctx, explain=True)
    assert explained.allowed == fast.allowed
    assert (explained.reason, explained.matched) == (fast.reason, fast.matched)
    applying = [e for e in explained.evaluated if e.applies]
    assert fast.allowed == (bool(applying) and applying[0].rule.effect == "allow")


@settings(max_examples=200, deadline=None)
@given(inputs(), st.lists(requests, min_size=1, max_size=5))
def test_a_pickled_policy_decides_identically(inp, asked):
    compiled = compile_policy(inp)
    copy = pickle.loads(pickle.dumps(compiled))
    for action, resource, who, ctx in asked:
        for explain in (False, True):
            assert (
                decide(copy, who, action, resource, ctx, explain=explain).to_json()
                == decide(compiled, who, action, resource, ctx, explain=explain).to_json()
            )
