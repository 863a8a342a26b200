"""`has_qualification`: records valid at decision time, explained, and only ever giving access."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.engine import (
    ConditionError,
    PolicyInput,
    Qualification,
    RoleDef,
    RuleSpec,
    compile_condition,
    compile_policy,
    decide,
    qualification_outcome,
    validate_rule,
)
from tests.engine.test_properties import ACTIONS, CONDITIONS, permissions, requests
from tests.engine.world import MEMBERSHIP, NOW, TENANT, allow, context, deny, member, subject

SECOND = timedelta(seconds=1)
HPLC3 = {"has_qualification": {"code": "hplc", "min_level": 3}}


def hplc(level: int = 3, **window: Any) -> Qualification:
    return Qualification("hplc", level, window.get("valid_from"), window.get("valid_until"))


def qualified(tree: Any, *records: Qualification, now=NOW) -> bool:
    condition = compile_condition(tree)
    who = subject(qualifications=records)
    fast = condition(who, None, context(now))
    assert condition.trace(who, None, context(now)).result is fast
    return fast


def detail(tree: Any, *records: Qualification, now=NOW) -> str | None:
    return compile_condition(tree).trace(subject(qualifications=records), None, context(now)).detail


# --- the operator -------------------------------------------------------------------------------


def test_a_record_of_the_code_at_or_above_the_level_qualifies():
    assert qualified(HPLC3, hplc(3))
    assert qualified(HPLC3, hplc(5))
    assert not qualified(HPLC3, hplc(2))
    assert not qualified(HPLC3, Qualification("gc", 5))
    assert not qualified(HPLC3)


def test_a_bare_code_means_level_one():
    assert qualified({"has_qualification": "hplc"}, hplc(1))
    assert qualified({"has_qualification": {"code": "hplc"}}, hplc(1))
    assert not qualified({"has_qualification": "hplc"}, Qualification("gc", 1))


def test_validity_is_checked_at_the_decision_instant():
    until = NOW + timedelta(days=30)
    record = hplc(3, valid_from=NOW - timedelta(days=1), valid_until=until)
    assert qualified(HPLC3, record, now=until - SECOND)
    assert not qualified(HPLC3, record, now=until)
    assert not qualified(HPLC3, record, now=until + SECOND)
    assert not qualified(HPLC3, record, now=NOW - timedelta(days=2))
    assert qualified(HPLC3, hplc(3, valid_from=NOW), now=NOW)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("", "expects a code of 1-64 characters"),
        ("x" * 65, "expects a code of 1-64 characters"),
        (["hplc"], "expects {'code': <code>, 'min_level': 1-5}"),
        ({"min_level": 2}, "expects a code of 1-64 characters"),
        ({"code": 7}, "expects a code of 1-64 characters"),
        ({"code": "hplc", "min_level": 0}, "expects min_level between 1 and 5"),
        ({"code": "hplc", "min_level": 6}, "expects min_level between 1 and 5"),
        ({"code": "hplc", "min_level": True}, "expects min_level between 1 and 5"),
        ({"code": "hplc", "min_level": 2.0}, "expects min_level between 1 and 5"),
        ({"code": "hplc", "level": 2}, "does not take 'level'"),
    ],
)
def test_bad_arguments_are_refused(args, message):
    with pytest.raises(ConditionError) as raised:
        compile_condition({"has_qualification": args})
    assert message in str(raised.value)


# --- explanations -------------------------------------------------------------------------------


def test_the_trace_says_which_record_qualified():
    text = detail(HPLC3, hplc(4, valid_until=NOW + timedelta(days=1)))
    assert text == f"qualified: hplc level 4 valid until {(NOW + timedelta(days=1)).isoformat()}"
    assert detail(HPLC3, hplc(3)) == "qualified: hplc level 3 valid until open"


def test_the_trace_names_a_missing_qualification():
    assert (
        detail(HPLC3)
        == "qualification hplc at level >= 3 missing: the subject holds no hplc record"
    )
    assert detail(HPLC3, hplc(1), hplc(2)) == (
        "qualification hplc at level >= 3 missing: the subject's hplc is level 2"
    )


def test_the_trace_names_an_expired_or_future_qualification():
    ended = NOW - SECOND
    assert detail(HPLC3, hplc(3, valid_until=ended), hplc(2)) == (
        f"qualification hplc at level >= 3 expired at {ended.isoformat()}"
    )
    start = NOW + timedelta(days=2)
    assert detail(HPLC3, hplc(3, valid_from=start), hplc(4, valid_from=start + SECOND)) == (
        f"qualification hplc at level >= 3 not valid before {start.isoformat()}"
    )


def test_other_operators_carry_no_detail():
    assert detail({"eq": [1, 1]}) is None
    assert compile_condition(HPLC3).trace(subject(), None, context()).to_json()["detail"]


# --- in rules -----------------------------------------------------------------------------------


def test_a_decision_allows_while_valid_and_denies_the_second_after_expiry_with_no_write():
    """One compiled policy, one subject: only the clock moves."""
    expires = NOW + timedelta(days=90)
    policy = member(allow("result:approve", condition=HPLC3))
    who = subject(qualifications=(hplc(3, valid_from=NOW, valid_until=expires),))

    before = decide(policy, who, "result:approve", None, context(expires - SECOND))
    after = decide(policy, who, "result:approve", None, context(expires + SECOND))
    assert before.allowed and not after.allowed

    explained = decide(policy, who, "result:approve", None, context(expires + SECOND), explain=True)
    assert not explained.allowed
    [rule] = explained.to_json()["evaluated"]
    assert rule["condition"]["op"] == "has_qualification"
    assert rule["condition"]["detail"] == (
        f"qualification hplc at level >= 3 expired at {expires.isoformat()}"
    )


def test_a_deny_unless_qualified_rule_is_accepted():
    rule = deny("result:approve", condition={"not": HPLC3})
    assert validate_rule(rule) is rule
    policy = member(allow("result:*"), rule)
    assert decide(
        policy, subject(qualifications=(hplc(3),)), "result:approve", None, context()
    ).allowed
    assert not decide(policy, subject(), "result:approve", None, context()).allowed


@pytest.mark.parametrize(
    "rule",
    [
        allow("result:approve", condition={"not": HPLC3}),
        allow("result:approve", condition={"any": [{"eq": [1, 1]}, {"not": HPLC3}]}),
        deny("result:approve", condition=HPLC3),
        deny("result:approve", condition={"all": [{"mfa_verified": True}, HPLC3]}),
    ],
)
def test_a_qualification_that_could_take_access_away_is_refused(rule):
    with pytest.raises(ConditionError) as raised:
        validate_rule(rule)
    assert "'has_qualification' may only give access" in str(raised.value)


# --- the property -------------------------------------------------------------------------------

CODES = ["hplc", "gc"]
GIVING = [
    {"has_qualification": {"code": code, "min_level": level}} for code in CODES for level in (1, 3)
]
records = st.builds(
    Qualification,
    code=st.sampled_from(CODES),
    level=st.integers(1, 5),
    valid_from=st.sampled_from([None, NOW - timedelta(hours=1), NOW + timedelta(hours=1)]),
    valid_until=st.sampled_from([None, NOW, NOW + timedelta(hours=1)]),
)


@st.composite
def qualified_rules(draw: st.DrawFn) -> RuleSpec:
    effect = draw(st.sampled_from(["allow", "deny"]))
    plain = draw(st.sampled_from(CONDITIONS))
    giving = draw(st.sampled_from(GIVING))
    leaf = giving if effect == "allow" else {"not": giving}
    condition = draw(
        st.sampled_from(
            [
                leaf,
                plain,
                {"all": [leaf, plain or {"eq": [1, 1]}]},
                {"any": [leaf, plain or {"eq": [1, 2]}]},
            ]
        )
    )
    return RuleSpec(effect, draw(permissions), draw(st.sampled_from(["all", "own"])), condition)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(qualified_rules(), min_size=1, max_size=5),
    st.lists(records, max_size=3),
    records,
    st.lists(requests, min_size=1, max_size=6),
)
def test_adding_a_qualification_never_turns_an_allow_into_a_deny(rules, held, extra, asked):
    compiled = compile_policy(
        PolicyInput(TENANT, MEMBERSHIP, {"r": RoleDef("r", (), tuple(rules))}, version="v")
    )
    for _, (action, resource, who, ctx) in enumerate(asked):
        assert action in ACTIONS
        before = replace(who, qualifications=tuple(held))
        after = replace(who, qualifications=(*held, extra))
        if decide(compiled, before, action, resource, ctx).allowed:
            assert decide(compiled, after, action, resource, ctx).allowed


# --- settled by qualifications alone (subjects?action=) -----------------------------------------

OTHER = {"mfa_verified": True}


@pytest.mark.parametrize(
    ("tree", "records", "expected"),
    [
        (HPLC3, (hplc(3),), True),
        (HPLC3, (), False),
        (HPLC3, (hplc(3, valid_until=NOW),), False),
        (OTHER, (), None),
        ({"not": HPLC3}, (), True),
        ({"not": OTHER}, (), None),
        ({"all": [HPLC3, OTHER]}, (), False),
        ({"all": [HPLC3, OTHER]}, (hplc(3),), None),
        ({"all": [HPLC3, {"has_qualification": "gc"}]}, (hplc(3), Qualification("gc", 1)), True),
        ({"any": [HPLC3, OTHER]}, (hplc(3),), True),
        ({"any": [HPLC3, OTHER]}, (), None),
        ({"any": [HPLC3, {"has_qualification": "gc"}]}, (), False),
    ],
)
def test_qualifications_alone_settle_a_condition_or_leave_it_open(tree, records, expected):
    who = subject(qualifications=records)
    assert qualification_outcome(compile_condition(tree).tree, who, NOW) is expected
