"""Conditions that cannot be compiled are refused with a message naming the node."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.engine import (
    MAX_CONDITION_DEPTH,
    MAX_CONDITION_SIZE,
    ConditionError,
    PolicyError,
    compile_condition,
)


def refused(tree: Any) -> ConditionError:
    with pytest.raises(ConditionError) as raised:
        compile_condition(tree)
    return raised.value


def test_an_unknown_operator_is_named_with_its_location():
    error = refused({"all": [{"mfa_verified": True}, {"eqq": ["subject.department", "x"]}]})
    assert str(error) == "unknown operator 'eqq' at condition.all[1]"
    assert error.path == "condition.all[1]"
    assert isinstance(error, PolicyError)
    assert error.code == "condition_invalid"


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ("mfa_verified", "exactly one operator at condition"),
        ({}, "exactly one operator at condition"),
        ({"mfa_verified": True, "trusted_device": True}, "exactly one operator at condition"),
        ({"not": ["x"]}, "exactly one operator at condition.not"),
        ({"all": []}, "'all' expects a non-empty list of conditions at condition"),
        ({"any": {"mfa_verified": True}}, "'any' expects a non-empty list"),
        ({"any": [{"not": {"bogus": 1}}]}, "unknown operator 'bogus' at condition.any[0].not"),
    ],
)
def test_malformed_combinators_are_refused(tree, message):
    assert message in str(refused(tree))


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"eq": "subject.department"}, "'eq' expects a list of 2 operands at condition"),
        ({"eq": ["subject.department"]}, "'eq' expects a list of 2 operands"),
        ({"lt": [1, 2, 3]}, "'lt' expects a list of 2 operands"),
        ({"in": ["subject.department"]}, "'in' expects a list of 2 operands"),
        ({"eq": ["subject.department", {"val": 1}]}, "operand object must be {'value': ...}"),
        ({"eq": ["subject.department", {"value": 1, "x": 2}]}, "operand object"),
        ({"eq": ["subject.department", None]}, "null is not a usable literal at condition.eq[1]"),
        ({"eq": ["subject.department", {"value": None}]}, "null is not a usable literal"),
        ({"eq": ["user.department", "x"]}, "bad path root 'user' in 'user.department'"),
        ({"eq": ["sales.emea", "x"]}, "bad path root 'sales'"),
        ({"eq": ["subject.dept", "x"]}, "unknown field 'dept' in path 'subject.dept'"),
        ({"eq": ["subject.", "x"]}, "unknown field ''"),
        ({"eq": ["subject.department.code", "x"]}, "goes below subject.department"),
        ({"eq": ["subject.attributes..x", "x"]}, "empty key in path"),
        ({"eq": ["context.attributes.", "x"]}, "empty key in path"),
        ({"in": ["subject.department", "sales"]}, "'in' expects a list as its second operand"),
        ({"not_in": ["subject.department", {"value": 3}]}, "expects a list as its second"),
    ],
)
def test_bad_operands_are_refused(tree, message):
    assert message in str(refused(tree))


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"cidr": "10.0.0.0/8"}, "'cidr' expects [address operand, [network, ...]]"),
        ({"cidr": ["context.ip"]}, "'cidr' expects"),
        ({"cidr": ["context.ip", []]}, "'cidr' needs at least one network"),
        (
            {"cidr": ["context.ip", ["10.0.0.0/8", "10.0.0.0/33"]]},
            "bad CIDR '10.0.0.0/33' at condition.cidr[1][1]",
        ),
        ({"cidr": ["context.ip", ["nonsense"]]}, "bad CIDR 'nonsense'"),
        ({"cidr": ["context.ip", [167772160]]}, "bad CIDR 167772160"),
        ({"cidr": ["ctx.ip", ["10.0.0.0/8"]]}, "bad path root 'ctx'"),
    ],
)
def test_bad_networks_are_refused(tree, message):
    assert message in str(refused(tree))


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"time_between": ["08:00"]}, "'time_between' expects ['HH:MM', 'HH:MM']"),
        ({"time_between": "08:00-18:00"}, "'time_between' expects"),
        ({"time_between": ["8:00", "18:00"]}, "bad time '8:00'"),
        ({"time_between": ["08:00", "24:00"]}, "bad time '24:00'"),
        ({"time_between": ["08:00", "18:60"]}, "bad time '18:60'"),
        ({"time_between": ["08:00", 1800]}, "bad time 1800"),
        ({"time_between": ["08:00", "08:00"]}, "empty time window"),
        ({"time_between": ["08:00", "18:00", "Mars/Olympus"]}, "unknown time zone 'Mars/Olympus'"),
        ({"time_between": ["08:00", "18:00", "../etc/passwd"]}, "unknown time zone"),
        ({"time_between": ["08:00", "18:00", "Europe/"]}, "unknown time zone"),
        ({"time_between": ["08:00", "18:00", 2]}, "unknown time zone 2"),
        ({"weekday_in": []}, "weekdays must be a non-empty list of integers 0 (Monday)"),
        ({"weekday_in": [7]}, "weekdays must be"),
        ({"weekday_in": ["mon"]}, "weekdays must be"),
        ({"weekday_in": [True]}, "weekdays must be"),
        ({"weekday_in": True}, "weekdays must be"),
        ({"weekday_in": {"tz": "UTC"}}, "weekdays must be"),
        ({"weekday_in": {"days": [1], "zone": "UTC"}}, "'weekday_in' does not take 'zone'"),
        ({"weekday_in": {"days": [1], "tz": "Nowhere"}}, "unknown time zone 'Nowhere'"),
        ({"business_days": False}, "'business_days' expects true or an object"),
        ({"business_days": "yes"}, "'business_days' expects true or an object"),
        ({"business_days": {"tz": "Mars/Base"}}, "unknown time zone"),
        ({"working_hours": {"start": "9"}}, "bad time '9'"),
        ({"working_hours": {"begin": "09:00"}}, "'working_hours' does not take 'begin'"),
        ({"working_hours": {"start": "17:00", "end": "17:00"}}, "empty time window"),
        ({"working_hours": False}, "'working_hours' expects true or an object"),
    ],
)
def test_bad_times_days_and_zones_are_refused(tree, message):
    assert message in str(refused(tree))


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"reports_to": ["resource.owner_id"]}, "'reports_to' expects a path or a user id"),
        ({"reports_to": {"value": 5}}, "'reports_to' expects a path or a user id"),
        ({"in_org_tree": 5}, "'in_org_tree' expects a path or a user id"),
        ({"in_org_tree": "owner.id"}, "bad path root 'owner'"),
        ({"same_department": "yes"}, "'same_department' expects true"),
        ({"exists": "sales"}, "'exists' expects a path"),
        ({"risk_below": "50"}, "'risk_below' expects a number"),
        ({"risk_below": True}, "'risk_below' expects a number"),
        ({"mfa_verified": False}, "'mfa_verified' expects true (negate with {'not': ...})"),
        ({"trusted_device": 1}, "'trusted_device' expects true"),
        ({"gdpr_consented": "true"}, "'gdpr_consented' expects true"),
        ({"classification_lte": False}, "'classification_lte' expects true"),
        ({"has_qualification": ""}, "'has_qualification' expects a code of 1-64 characters"),
        ({"has_qualification": ["hplc"]}, "'has_qualification' expects {'code'"),
    ],
)
def test_bad_arguments_of_the_other_operators_are_refused(tree, message):
    assert message in str(refused(tree))


# --- abusive input ------------------------------------------------------------------------------


def nested_not(depth: int) -> dict[str, Any]:
    tree: dict[str, Any] = {"mfa_verified": True}
    for _ in range(depth):
        tree = {"not": tree}
    return tree


def test_trees_up_to_the_depth_limit_compile():
    compile_condition(nested_not(MAX_CONDITION_DEPTH))


def test_trees_deeper_than_the_limit_are_refused():
    error = refused(nested_not(MAX_CONDITION_DEPTH + 1))
    assert f"nested deeper than {MAX_CONDITION_DEPTH} levels" in str(error)


def test_deeply_nested_literals_are_refused():
    value: Any = 1
    for _ in range(200):
        value = [value]
    assert "nested too deeply" in str(refused({"in": [1, value]}))


def test_trees_larger_than_the_size_limit_are_refused():
    error = refused({"in": ["subject.department", ["x"] * MAX_CONDITION_SIZE]})
    assert f"condition too large (more than {MAX_CONDITION_SIZE} values)" in str(error)


def test_long_strings_are_refused():
    assert "string longer than 1024 characters" in str(refused({"eq": [1, "x" * 1025]}))


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"risk_below": float("nan")}, "non-finite number at condition.risk_below"),
        ({"eq": [1, float("inf")]}, "non-finite number"),
        ({"eq": [1, {1: 2}]}, "object key 1 is not a string"),
        ({"eq": [1, {"value": {1, 2}}]}, "set is not a JSON value"),
        ({"eq": [1, object()]}, "object is not a JSON value"),
    ],
)
def test_values_that_are_not_json_are_refused(tree, message):
    assert message in str(refused(tree))
