"""The escalation rule: `permission_covers`, `rules_within`, `scopes_not_held` (engine.holds).

Unit cases name each clause of the rule; the properties at the end show that whatever
`rules_within` accepts, the holder's own policy allows too (decide), for the same subject,
resource and context, now and later.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.engine import (
    DelegatedRules,
    Entitlement,
    FieldAccess,
    GrantSpec,
    PolicyInput,
    Resource,
    RuleSpec,
    compile_policy,
    decide,
    effective_permissions,
    permission_covers,
    permission_meet,
    rules_within,
    scope_covers,
    scopes_not_held,
)
from tests.engine.world import MEMBERSHIP, NOW, TENANT, context, subject

LATER = NOW + timedelta(days=1)
MUCH_LATER = NOW + timedelta(days=30)


def E(effect: str, permission: str, **kw: Any) -> Entitlement:  # noqa: N802
    fields = kw.pop("fields", None)
    if fields is not None:
        kw["fields"] = {n: FieldAccess(r, w) for n, (r, w) in fields.items()}
    return Entitlement(effect, permission, **kw)


def A(permission: str, **kw: Any) -> Entitlement:  # noqa: N802
    return E("allow", permission, **kw)


def D(permission: str, **kw: Any) -> Entitlement:  # noqa: N802
    return E("deny", permission, **kw)


def within(held: list[Entitlement], wanted: list[Entitlement]) -> bool:
    return rules_within(held, wanted) == []


# --- permissions and scopes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "wanted", "covers"),
    [
        ("*:*", "*:*", True),
        ("*:*", "doc:*", True),
        ("*:*", "doc:read", True),
        ("doc:*", "doc:*", True),
        ("doc:*", "doc:read", True),
        ("doc:*", "*:*", False),
        ("doc:*", "user:read", False),
        ("doc:read", "doc:read", True),
        ("doc:read", "doc:*", False),
        ("doc:read", "doc:update", False),
        ("doc:read", "*:*", False),
    ],
)
def test_permission_covers(held, wanted, covers):
    assert permission_covers(held, wanted) is covers


def test_permission_meet_is_the_narrower_or_none():
    assert permission_meet("doc:*", "doc:read") == "doc:read"
    assert permission_meet("doc:read", "*:*") == "doc:read"
    assert permission_meet("doc:read", "doc:update") is None
    assert permission_meet("doc:*", "user:*") is None


@pytest.mark.parametrize(
    ("held", "wanted", "covers"),
    [
        ("all", "own", True),
        ("all", "department", True),
        ("team", "own", True),
        ("team", "department", False),
        ("own", "team", False),
        ("department", "department", True),
        ("own", "all", False),
    ],
)
def test_scope_covers(held, wanted, covers):
    assert scope_covers(held, wanted) is covers


# --- allows -------------------------------------------------------------------------------------


def test_a_wider_allow_covers_a_narrower_one():
    assert within([A("*:*")], [A("tenant:update"), A("doc:*", scope="own")])
    assert within([A("doc:*", scope="team")], [A("doc:read", scope="own")])


def test_what_is_not_covered_is_named_in_order():
    wanted = [A("doc:read"), A("tenant:update"), D("user:delete"), A("user:*")]
    assert rules_within([A("doc:*"), A("user:read")], wanted) == [wanted[1], wanted[3]]


def test_a_conditional_allow_covers_only_the_same_condition():
    mfa = {"mfa_verified": True}
    assert within([A("doc:read", condition=mfa)], [A("doc:read", condition=mfa)])
    assert not within([A("doc:read", condition=mfa)], [A("doc:read")])
    assert not within([A("doc:read", condition=mfa)], [A("doc:read", condition={"risk_below": 5})])
    assert within([A("doc:read")], [A("doc:read", condition=mfa)])


def test_a_held_window_must_last_as_long_as_the_wanted_one():
    assert within([A("*:*", not_after=MUCH_LATER)], [A("doc:read", not_after=LATER)])
    assert not within([A("*:*", not_after=LATER)], [A("doc:read", not_after=MUCH_LATER)])
    assert not within([A("*:*", not_after=LATER)], [A("doc:read")])


def test_a_grant_needs_an_unconditional_all_scope_allow_or_a_grant_on_that_object():
    grant = Entitlement.grant("doc:read", "doc", "7", None)
    assert within([A("doc:*")], [grant])
    assert not within([A("doc:*", scope="own")], [grant])
    assert not within([A("doc:*", condition={"mfa_verified": True})], [grant])
    assert within([Entitlement.grant("doc:*", "doc", "7", None)], [grant])
    assert not within([Entitlement.grant("doc:*", "doc", "8", None)], [grant])
    assert not within([Entitlement.grant("doc:*", "doc", "7", None)], [A("doc:read")])


def test_of_rule_keeps_the_rule_and_adds_the_window():
    spec = RuleSpec("allow", "doc:read", "own", {"mfa_verified": True})
    got = Entitlement.of_rule(spec, not_after=LATER)
    assert (got.effect, got.permission, got.scope, got.condition, got.not_after) == (
        "allow",
        "doc:read",
        "own",
        {"mfa_verified": True},
        LATER,
    )


# --- fields -------------------------------------------------------------------------------------


def test_a_field_limited_allow_covers_only_its_fields():
    title = {"title": (True, True)}
    assert within([A("doc:read", fields=title)], [A("doc:read", fields=title)])
    assert not within([A("doc:read", fields=title)], [A("doc:read")])
    assert not within([A("doc:read", fields=title)], [A("doc:read", fields={"body": (True, True)})])
    assert not within(
        [A("doc:read", fields={"title": (True, False)})], [A("doc:read", fields=title)]
    )
    assert within([A("doc:read")], [A("doc:read", fields=title)])


def test_a_star_map_covers_only_with_the_same_exceptions():
    no_salary = {"*": (True, True), "salary": (False, False)}
    held = [A("user:read", fields=no_salary)]
    assert within(held, [A("user:read", fields=no_salary)])
    assert not within(held, [A("user:read", fields={"*": (True, True)})])
    assert within(held, [A("user:read", fields={"title": (True, True)})])
    assert not within(
        [A("user:read", fields={"title": (True, True)})], [A("user:read", fields=no_salary)]
    )


# --- restrictions -------------------------------------------------------------------------------


def test_a_held_deny_must_be_carried_over():
    held = [A("*:*"), D("tenant:update")]
    assert not within(held, [A("*:*")])
    assert not within(held, [A("tenant:*")])
    assert within(held, [A("*:*"), D("tenant:update")])
    assert within(held, [A("*:*"), D("tenant:*")])
    assert within(held, [A("doc:*")])  # no overlap


def test_a_wanted_deny_carries_only_when_at_least_as_broad():
    held = [
        A("*:*"),
        D("doc:delete", scope="own", condition={"mfa_verified": False}, not_after=LATER),
    ]
    wanted = [A("doc:*")]
    assert within(held, [*wanted, D("doc:delete")])
    assert within(held, [*wanted, D("doc:delete", scope="own", condition={"mfa_verified": False})])
    assert within(held, [*wanted, D("doc:delete", not_after=MUCH_LATER)])
    assert not within(held, [*wanted, D("doc:read")])
    assert not within(held, [*wanted, D("doc:delete", scope="department")])
    assert not within(held, [*wanted, D("doc:delete", condition={"risk_below": 5})])
    assert not within(held, [*wanted, D("doc:delete", not_after=NOW)])


def test_a_held_field_restriction_is_kept_by_hiding_or_by_not_granting():
    hides_salary = D("user:read", fields={"salary": (False, False)})
    held = [A("user:*"), hides_salary]
    assert not within(held, [A("user:read")])
    assert within(held, [A("user:read"), D("user:read", fields={"salary": (False, False)})])
    assert within(held, [A("user:read"), D("user:*")])
    assert within(held, [A("user:read", fields={"title": (True, True)})])
    assert not within(held, [A("user:read"), D("user:read", fields={"title": (False, False)})])
    # a field restriction never carries a whole deny
    assert not within([A("*:*"), D("user:read")], [A("user:read"), hides_salary])


def test_a_held_allow_hiding_fields_is_a_restriction_too():
    held = [A("user:read", fields={"*": (True, True), "salary": (False, False)}), A("user:*")]
    assert not within(held, [A("user:read")])
    assert within(held, [A("user:update")])  # the restriction is on user:read only


def test_wanted_denies_need_nothing():
    assert within([], [D("*:*"), D("doc:read", fields={"x": (False, False)})])
    assert not within([], [A("doc:read")])


# --- API-key scopes -----------------------------------------------------------------------------


def test_scopes_are_ceilings():
    held = [
        A("doc:read", scope="own", condition={"mfa_verified": True}),
        A("user:*"),
        D("user:delete"),
        D("doc:update", scope="own"),
        D("user:update", condition={"mfa_verified": False}),
        Entitlement.grant("grant:read", "doc", "1", None),
    ]
    scopes = [
        "doc:read",
        "user:read",
        "user:*",
        "user:delete",
        "doc:*",
        "user:update",
        "grant:read",
    ]
    assert scopes_not_held(held, scopes) == ["user:*", "user:delete", "doc:*", "grant:read"]


# --- properties: whatever is within, the holder may do too --------------------------------------

RESOURCES = ["doc", "user"]
VERBS = ["read", "update", "delete"]
ACTIONS = [f"{r}:{v}" for r in RESOURCES for v in VERBS]
CONDITIONS: list[dict[str, Any] | None] = [
    None,
    {"mfa_verified": True},
    {"risk_below": 50},
    {"same_department": True},
]
permissions = st.sampled_from(["*:*"] + [f"{r}:*" for r in RESOURCES] + ACTIONS)
specs = st.builds(
    RuleSpec,
    effect=st.sampled_from(["allow", "deny"]),
    permission=permissions,
    scope=st.sampled_from(["all", "own", "team", "department"]),
    condition=st.sampled_from(CONDITIONS),
)
ends = st.sampled_from([None, LATER, MUCH_LATER])
delegated = st.builds(
    lambda rules, end, i: DelegatedRules(f"d{i}", tuple(rules), None, end),
    st.lists(specs, max_size=3),
    ends,
    st.integers(0, 9),
)
grants = st.builds(
    lambda perm, rid, end, i: GrantSpec(f"g{i}", perm, "doc", rid, end),
    permissions,
    st.sampled_from(["1", "2"]),
    ends,
    st.integers(0, 9),
)


@st.composite
def policies(draw: st.DrawFn) -> PolicyInput:
    ds = draw(st.lists(delegated, max_size=2))
    ds = [DelegatedRules(f"d{i}", d.rules, None, d.not_after) for i, d in enumerate(ds)]
    gs = draw(st.lists(grants, max_size=2))
    gs = [
        GrantSpec(f"g{i}", g.permission, "doc", g.resource_id, g.not_after)
        for i, g in enumerate(gs)
    ]
    return PolicyInput(
        tenant_id=TENANT,
        membership_id=MEMBERSHIP,
        roles={},
        overrides=tuple(draw(st.lists(specs, max_size=4))),
        delegated=tuple(ds),
        grants=tuple(gs),
    )


requests = st.tuples(
    st.sampled_from(ACTIONS),
    st.sampled_from(
        [
            None,
            Resource("doc", id="1", owner_id="alice", department="sales"),
            Resource("doc", id="2", owner_id="bob", department="ops"),
            Resource("user", id="1", owner_id="carol", department="sales"),
        ]
    ),
    st.booleans(),
    st.sampled_from([10.0, 90.0]),
    st.sampled_from([NOW, LATER - timedelta(seconds=1), LATER, MUCH_LATER + timedelta(days=1)]),
)


@settings(max_examples=400, deadline=None)
@given(held=policies(), wanted=policies(), checks=st.lists(requests, min_size=1, max_size=12))
def test_property_what_is_within_the_holder_may_do(held, wanted, checks):
    held_policy, wanted_policy = compile_policy(held), compile_policy(wanted)
    lacking = rules_within(
        effective_permissions(held_policy, NOW), effective_permissions(wanted_policy, NOW)
    )
    if lacking:
        return
    who = subject(department="sales", team=frozenset({"bob"}))
    for action, resource, mfa, risk, at in checks:
        ctx = context(now=at, mfa_verified=mfa, risk_score=risk)
        if decide(wanted_policy, who, action, resource, ctx).allowed:
            assert decide(held_policy, who, action, resource, ctx).allowed, (action, resource, at)


@settings(max_examples=200, deadline=None)
@given(held=policies())
def test_property_a_policy_lies_within_itself(held):
    entries = effective_permissions(compile_policy(held), NOW)
    assert rules_within(entries, entries) == []
