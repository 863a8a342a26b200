"""`decide`: default deny, deny overrides, permission matching, scopes, grants, inheritance,
time windows, and the sources of rules."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from tessera.engine import PolicyError, Resource, Subject, decide
from tests.engine.world import (
    NOW,
    TICK,
    allow,
    allowed,
    check,
    context,
    delegation,
    deny,
    doc,
    grant,
    holding,
    member,
    policy,
    role,
    subject,
)

# --- default deny and deny overrides -------------------------------------------------------------


def test_a_member_without_roles_is_denied_by_default():
    decision = check(policy(), "doc:read", doc())
    assert decision.allowed is False
    assert decision.reason == "no matching allow (default deny)"
    assert decision.matched == ()
    assert decision.policy_version == "t1.m1"


def test_an_allow_rule_allows_and_names_itself_in_the_reason():
    decision = check(policy([role("admin", allow("*:*"))], ["admin"]), "doc:read", doc())
    assert decision.allowed is True
    assert decision.reason == "allowed by role admin rule *:*"
    assert [m.permission for m in decision.matched] == ["*:*"]


def test_an_override_deny_beats_a_role_allow():
    compiled = policy([role("admin", allow("*:*"))], ["admin"], overrides=[deny("doc:delete")])
    decision = check(compiled, "doc:delete", doc())
    assert decision.allowed is False
    assert decision.reason == "denied by override rule doc:delete"
    assert decision.matched[0].source.kind == "override"
    assert allowed(compiled, "doc:read", doc())


def test_a_role_deny_beats_an_override_allow():
    compiled = policy([role("r", deny("doc:*"))], ["r"], overrides=[allow("doc:read")])
    assert not allowed(compiled, "doc:read", doc())


def test_a_global_wildcard_deny_beats_an_exact_allow():
    assert not allowed(member(allow("doc:read"), deny("*:*")), "doc:read", doc())


def test_a_deny_whose_condition_fails_does_not_apply():
    compiled = member(allow("doc:read"), deny("doc:read", condition={"mfa_verified": True}))
    assert allowed(compiled, "doc:read", doc(), ctx=context(mfa_verified=False))
    assert not allowed(compiled, "doc:read", doc(), ctx=context(mfa_verified=True))


def test_a_conditional_allow_allows_only_when_its_condition_holds():
    compiled = member(allow("doc:read", condition={"risk_below": 50}))
    assert allowed(compiled, "doc:read", doc(), ctx=context(risk_score=10))
    assert not allowed(compiled, "doc:read", doc(), ctx=context(risk_score=50))


def test_the_unconditional_allow_is_reported_before_conditional_ones():
    compiled = member(allow("doc:read", condition={"risk_below": 50}), allow("doc:*"))
    decision = check(compiled, "doc:read", doc(), ctx=context(risk_score=10))
    assert decision.reason == "allowed by role r rule doc:*"


def test_the_deciding_rule_is_the_more_specific_then_the_earlier():
    compiled = member(
        allow("*:*", scope="own"), allow("doc:*", scope="own"), allow("doc:read", scope="own")
    )
    decision = check(compiled, "doc:read", doc(owner_id="alice"))
    assert decision.matched[0].permission == "doc:read"


def test_a_deny_and_allow_on_other_permissions_never_decide():
    compiled = member(allow("doc:update"), deny("user:read"), allow("user:*"))
    assert not allowed(compiled, "doc:read", doc())
    assert allowed(compiled, "user:update", None)
    assert not allowed(compiled, "user:read", None)


# --- permission matching ------------------------------------------------------------------------


@pytest.mark.parametrize("permission", ["doc:read", "doc:*", "*:*"])
def test_an_action_is_matched_by_its_exact_resource_wildcard_and_global_permission(permission):
    assert allowed(member(allow(permission)), "doc:read", doc())


@pytest.mark.parametrize("permission", ["doc:update", "docs:read", "user:*", "doc:reader"])
def test_an_action_is_not_matched_by_other_permissions(permission):
    assert not allowed(member(allow(permission)), "doc:read", doc())


def test_decide_looks_only_at_the_exact_resource_wildcard_and_global_keys():
    compiled = member(
        allow("doc:read"), allow("doc:*"), allow("*:*"), allow("doc:update"), deny("user:*")
    )
    found = compiled.candidates("doc:read")
    assert sorted(r.permission for r in found.allows) == ["*:*", "doc:*", "doc:read"]
    assert found.denies == ()
    fallback = compiled.candidates("sample:read")
    assert [r.permission for r in fallback.allows] == ["*:*"]


@pytest.mark.parametrize(
    "action",
    ["doc", "doc:", ":read", "doc:*", "*:*", "*:read", "Doc:Read", "a:b:c", "", " doc:read"],
)
def test_a_malformed_action_is_refused(action):
    with pytest.raises(PolicyError, match="bad action"):
        decide(member(allow("*:*")), subject(), action, None, context())
    with pytest.raises(PolicyError, match="bad action"):
        decide(member(allow("*:*")), subject(), action, None, context(), explain=True)


def test_an_action_that_is_not_a_string_is_refused():
    with pytest.raises(PolicyError) as raised:
        decide(member(allow("*:*")), subject(), 42, None, context())  # type: ignore[arg-type]
    assert raised.value.errors == [
        {"field": "action", "message": raised.value.detail, "code": "policy_invalid"}
    ]


def test_actions_may_use_digits_underscores_dashes_and_dots():
    compiled = member(allow("api_key:create"), allow("lab.sample-2:*"))
    assert allowed(compiled, "api_key:create")
    assert allowed(compiled, "lab.sample-2:approve_v2")


# --- subjects -----------------------------------------------------------------------------------


def test_a_subject_of_another_membership_or_tenant_is_denied():
    compiled = member(allow("*:*"))
    assert decide(compiled, subject(), "doc:read", None, context()).allowed
    stranger = Subject("alice", "m2", "t1")
    other_tenant = Subject("alice", "m1", "t2")
    for who in (stranger, other_tenant):
        for explain in (False, True):
            decision = decide(compiled, who, "doc:read", None, context(), explain=explain)
            assert decision.allowed is False
            assert "not the member this policy was compiled for" in decision.reason


# --- scopes -------------------------------------------------------------------------------------


def test_scope_own_admits_only_the_subjects_own_resources():
    compiled = member(allow("doc:update", scope="own"))
    assert allowed(compiled, "doc:update", doc(owner_id="alice"))
    assert not allowed(compiled, "doc:update", doc(owner_id="bob"))
    assert not allowed(compiled, "doc:update", doc(owner_id=None))
    assert not allowed(compiled, "doc:update", None)


def test_scope_team_admits_resources_owned_by_the_team_including_the_subject():
    compiled = member(allow("doc:read", scope="team"))
    boss = subject(team=frozenset({"alice", "bob"}))
    assert allowed(compiled, "doc:read", doc(owner_id="bob"), boss)
    assert allowed(compiled, "doc:read", doc(owner_id="alice"), boss)
    assert allowed(compiled, "doc:read", doc(owner_id="alice"), subject(team=frozenset()))
    assert not allowed(compiled, "doc:read", doc(owner_id="carol"), boss)
    assert not allowed(compiled, "doc:read", doc(owner_id=None), boss)
    assert not allowed(compiled, "doc:read", None, boss)


def test_scope_department_admits_resources_of_the_subjects_department():
    compiled = member(allow("doc:read", scope="department"))
    sales = subject(department="sales")
    assert allowed(compiled, "doc:read", doc(department="sales"), sales)
    assert not allowed(compiled, "doc:read", doc(department="ops"), sales)
    assert not allowed(compiled, "doc:read", doc(department=None), subject(department=None))
    assert not allowed(compiled, "doc:read", doc(department="sales"), subject(department=None))
    assert not allowed(compiled, "doc:read", None, sales)


def test_scope_all_admits_any_resource_and_none():
    compiled = member(allow("doc:read"))
    assert allowed(compiled, "doc:read", doc(owner_id="bob", department="ops"))
    assert allowed(compiled, "doc:read", None)


def test_a_scoped_deny_applies_only_to_resources_in_its_scope():
    compiled = member(allow("doc:*"), deny("doc:delete", scope="own"))
    assert not allowed(compiled, "doc:delete", doc(owner_id="alice"))
    assert allowed(compiled, "doc:delete", doc(owner_id="bob"))
    assert allowed(compiled, "doc:delete", None)


# --- object-level grants ------------------------------------------------------------------------


def test_a_grant_allows_its_permission_on_exactly_one_resource():
    compiled = policy(grants=[grant("g1", "doc:read", "doc", "42")])
    decision = check(compiled, "doc:read", doc("42"))
    assert decision.allowed is True
    assert decision.reason == "allowed by grant g1"
    assert decision.matched[0].source.kind == "grant"
    assert (decision.matched[0].resource_type, decision.matched[0].resource_id) == ("doc", "42")
    assert not allowed(compiled, "doc:read", doc("43"))
    assert not allowed(compiled, "doc:read", Resource("file", "42"))
    assert not allowed(compiled, "doc:read", doc(None))
    assert not allowed(compiled, "doc:read", None)
    assert not allowed(compiled, "doc:update", doc("42"))


def test_a_wildcard_grant_covers_every_action_on_its_resource():
    compiled = policy(grants=[grant("g1", "doc:*", "doc", "42"), grant("g2", "*:*", "doc", "7")])
    assert allowed(compiled, "doc:update", doc("42"))
    assert allowed(compiled, "doc:delete", doc("7"))
    assert not allowed(compiled, "doc:update", doc("8"))


def test_a_grant_never_overrides_a_deny():
    compiled = policy(overrides=[deny("doc:read")], grants=[grant("g1", "doc:read", "doc", "42")])
    assert not allowed(compiled, "doc:read", doc("42"))


def test_a_grant_is_consulted_only_after_the_allows():
    compiled = member(
        allow("doc:read", condition={"mfa_verified": True}),
        grants=[grant("g1", "doc:read", "doc", "42")],
    )
    assert check(compiled, "doc:read", doc("42")).reason == "allowed by grant g1"
    verified = context(mfa_verified=True)
    assert check(compiled, "doc:read", doc("42"), ctx=verified).reason.startswith("allowed by role")


def test_a_grant_expires_at_its_not_after():
    compiled = policy(grants=[grant("g1", "doc:read", "doc", "42", not_after=NOW)])
    assert allowed(compiled, "doc:read", doc("42"), ctx=context(NOW - TICK))
    assert not allowed(compiled, "doc:read", doc("42"), ctx=context(NOW))


def test_an_expired_grant_gives_way_to_a_later_one():
    compiled = policy(
        grants=[
            grant("old", "doc:read", "doc", "42", not_after=NOW),
            grant("new", "doc:*", "doc", "42"),
        ]
    )
    assert check(compiled, "doc:read", doc("42")).reason == "allowed by grant new"


# --- role inheritance ---------------------------------------------------------------------------


def test_a_held_role_brings_its_parents_rules_transitively_with_the_path():
    roles = [
        role("viewer", allow("doc:read")),
        role("member", allow("doc:update"), parents=["viewer"]),
        role("manager", allow("doc:approve"), parents=["member"]),
    ]
    compiled = policy(roles, [holding("manager", source_id="as-1")])
    decision = check(compiled, "doc:read", doc())
    assert decision.allowed
    source = decision.matched[0].source
    assert source.to_json() == {
        "kind": "role",
        "path": ["manager", "member", "viewer"],
        "via": "assignment",
        "source_id": "as-1",
        "index": 0,
    }
    assert decision.reason == (
        "allowed by role viewer (inherited via manager > member > viewer) rule doc:read"
    )
    assert allowed(compiled, "doc:update") and allowed(compiled, "doc:approve")


def test_a_parent_role_does_not_bring_its_childrens_rules():
    roles = [
        role("viewer", allow("doc:read")),
        role("member", allow("doc:update"), parents=["viewer"]),
    ]
    compiled = policy(roles, ["viewer"])
    assert allowed(compiled, "doc:read") and not allowed(compiled, "doc:update")


def test_a_shared_ancestor_is_reached_once_by_the_shortest_path():
    roles = [
        role("base", allow("doc:read")),
        role("a", parents=["b", "base"]),
        role("b", parents=["base"]),
    ]
    compiled = policy(roles, ["a"])
    assert [r.info.source.path for r in compiled.rules] == [("a", "base")]


def test_a_role_held_through_delegation_records_it():
    compiled = policy(
        [role("auditor", allow("audit_log:read"))],
        [holding("auditor", via="delegation", source_id="dg-9")],
    )
    decision = check(compiled, "audit_log:read")
    assert decision.matched[0].source.via == "delegation"
    assert (
        decision.reason
        == "allowed by role auditor (held through delegation dg-9) rule audit_log:read"
    )


def test_delegated_permissions_have_the_delegation_as_source():
    compiled = policy(delegated=[delegation("dg-1", allow("doc:approve"))])
    decision = check(compiled, "doc:approve")
    assert decision.reason == "allowed by delegation dg-1 rule doc:approve"
    assert decision.matched[0].source.kind == "delegation"


def test_rules_of_roles_not_held_do_not_count():
    compiled = policy([role("admin", allow("*:*")), role("viewer", allow("doc:read"))], ["viewer"])
    assert not allowed(compiled, "doc:delete")


# --- time windows -------------------------------------------------------------------------------


def test_a_held_role_applies_from_not_before_inclusive_to_not_after_exclusive():
    later = NOW + timedelta(days=1)
    compiled = policy(
        [role("r", allow("doc:read"))], [holding("r", not_before=NOW, not_after=later)]
    )
    assert not allowed(compiled, "doc:read", ctx=context(NOW - TICK))
    assert allowed(compiled, "doc:read", ctx=context(NOW))
    assert allowed(compiled, "doc:read", ctx=context(later - TICK))
    assert not allowed(compiled, "doc:read", ctx=context(later))


def test_a_time_window_also_bounds_inherited_rules():
    roles = [role("base", allow("doc:read")), role("r", parents=["base"])]
    compiled = policy(roles, [holding("r", not_after=NOW)])
    assert allowed(compiled, "doc:read", ctx=context(NOW - TICK))
    assert not allowed(compiled, "doc:read", ctx=context(NOW))


def test_a_delegation_applies_only_inside_its_window():
    compiled = policy(
        delegated=[delegation("dg", allow("doc:read"), not_before=NOW, not_after=NOW + TICK)]
    )
    assert not allowed(compiled, "doc:read", ctx=context(NOW - TICK))
    assert allowed(compiled, "doc:read", ctx=context(NOW))
    assert not allowed(compiled, "doc:read", ctx=context(NOW + TICK))


def test_a_deny_in_a_closed_window_does_not_apply():
    compiled = policy(
        [role("admin", allow("*:*")), role("blocked", deny("*:*"))],
        ["admin", holding("blocked", not_before=NOW)],
    )
    assert allowed(compiled, "doc:read", ctx=context(NOW - TICK))
    assert not allowed(compiled, "doc:read", ctx=context(NOW))


def test_windows_compare_instants_across_time_zones():
    berlin_summer = timezone(timedelta(hours=2))
    compiled = policy([role("r", allow("doc:read"))], [holding("r", not_after=NOW)])
    assert not allowed(compiled, "doc:read", ctx=context(NOW.astimezone(berlin_summer)))


def test_the_same_role_held_twice_keeps_both_sources():
    compiled = policy(
        [role("r", allow("doc:read"))],
        [
            holding("r", not_after=NOW, source_id="old"),
            holding("r", via="delegation", source_id="dg"),
        ],
    )
    decision = check(compiled, "doc:read", ctx=context(NOW))
    assert decision.matched[0].source.source_id == "dg"
