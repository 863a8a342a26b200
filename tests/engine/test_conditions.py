"""Conditions: every operator's truth on true, false, missing and mismatched values."""

from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tessera.engine import Context, Qualification, Resource, Subject, compile_condition
from tests.engine.world import NOW, UTC, context, doc, subject


def holds(
    tree: dict[str, Any],
    who: Subject | None = None,
    resource: Resource | None = None,
    ctx: Context | None = None,
) -> bool:
    """Evaluate a condition, checking that the traced evaluation agrees with the fast one."""
    condition = compile_condition(tree)
    who = who or subject()
    ctx = ctx or context()
    result = condition(who, resource, ctx)
    assert condition.trace(who, resource, ctx).result is result
    return result


def at(text: str) -> Context:
    """A context at an ISO instant (UTC unless the text says otherwise)."""
    moment = datetime.fromisoformat(text)
    return context(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# --- eq / ne ------------------------------------------------------------------------------------


def test_eq_compares_two_paths():
    tree = {"eq": ["subject.department", "resource.department"]}
    assert holds(tree, subject(department="sales"), doc(department="sales"))
    assert not holds(tree, subject(department="sales"), doc(department="ops"))


def test_eq_is_false_when_a_value_is_missing():
    tree = {"eq": ["subject.department", "resource.department"]}
    assert not holds(tree, subject(department=None), doc(department=None))
    assert not holds(tree, subject(department="sales"), None)


def test_eq_compares_with_literals_in_every_form():
    who = subject(department="sales", clearance_level=3, attributes={"tags": ["a", "b"]})
    assert holds({"eq": ["subject.department", "sales"]}, who)
    assert holds({"eq": ["subject.department", {"value": "sales"}]}, who)
    assert holds({"eq": ["subject.clearance_level", 3]}, who)
    assert holds({"eq": ["subject.clearance_level", 3.0]}, who)
    assert holds({"eq": ["subject.attributes.tags", ["a", "b"]]}, who)
    assert holds({"eq": ["subject.attributes.tags", {"value": ["a", "b"]}]}, who)
    assert not holds({"eq": ["subject.attributes.tags", ["a"]]}, who)
    assert holds({"eq": [{"value": "x.y"}, {"value": "x.y"}]}, who)


def test_eq_is_false_across_kinds():
    who = subject(clearance_level=1, attributes={"flag": True, "code": "1"})
    assert not holds({"eq": ["subject.clearance_level", "1"]}, who)
    assert not holds({"eq": ["subject.attributes.flag", 1]}, who)
    assert not holds({"eq": ["subject.attributes.code", 1]}, who)


def test_eq_is_false_on_values_of_unknown_types():
    who = subject(attributes={"amount": Decimal("1.5")})
    assert not holds({"eq": ["subject.attributes.amount", "subject.attributes.amount"]}, who)


def test_eq_compares_sets_objects_and_datetimes():
    who = subject(team=frozenset({"a", "b"}), attributes={"lab": {"site": "north"}})
    assert holds({"eq": ["subject.team", "subject.team"]}, who)
    assert holds({"eq": ["subject.attributes.lab", {"value": {"site": "north"}}]}, who)
    assert not holds({"eq": ["subject.attributes.lab", {"value": {"site": "south"}}]}, who)
    assert holds({"eq": ["context.now", "context.now"]})


def test_ne_is_true_only_for_present_comparable_different_values():
    tree = {"ne": ["subject.department", "resource.department"]}
    assert holds(tree, subject(department="sales"), doc(department="ops"))
    assert not holds(tree, subject(department="sales"), doc(department="sales"))
    assert not holds(tree, subject(department=None), doc(department="ops"))
    assert not holds({"ne": ["subject.clearance_level", "0"]})
    who = subject(attributes={"x": Decimal(1), "y": Decimal(2)})
    assert not holds({"ne": ["subject.attributes.x", "subject.attributes.y"]}, who)


# --- attribute paths ----------------------------------------------------------------------------


def test_paths_reach_nested_attributes_of_subject_resource_and_context():
    who = subject(attributes={"lab": {"site": "north"}})
    ctx = context(attributes={"channel": "api"})
    assert holds({"eq": ["subject.attributes.lab.site", "north"]}, who)
    assert holds({"eq": ["resource.attributes.kind", "sop"]}, resource=doc(kind="sop"))
    assert holds({"eq": ["context.attributes.channel", "api"]}, ctx=ctx)
    assert holds({"eq": ["resource.type", "doc"]}, resource=doc())
    assert holds({"eq": ["context.ip", "10.0.0.1"]}, ctx=context(ip="10.0.0.1"))


def test_paths_through_missing_or_scalar_attributes_are_missing():
    who = subject(attributes={"lab": "north", "empty": None})
    assert not holds({"eq": ["subject.attributes.lab.site", "north"]}, who)
    assert not holds({"eq": ["subject.attributes.nothing", "north"]}, who)
    assert not holds({"exists": "subject.attributes.empty"}, who)
    assert not holds({"eq": ["resource.attributes.kind", "sop"]}, resource=None)


def test_exists_tests_presence():
    assert holds({"exists": "subject.department"}, subject(department="sales"))
    assert not holds({"exists": "subject.department"}, subject(department=None))
    assert holds({"exists": "resource.id"}, resource=doc())
    assert not holds({"exists": "resource.id"}, resource=None)


# --- ordering -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        ("lt", 1, 2, True),
        ("lt", 2, 2, False),
        ("lte", 2, 2, True),
        ("lte", 3, 2, False),
        ("gt", 3, 2, True),
        ("gt", 2, 2, False),
        ("gte", 2, 2, True),
        ("gte", 1, 2, False),
        ("lt", 1.5, 2, True),
        ("lt", "apple", "banana", True),
        ("gt", "apple", "banana", False),
    ],
)
def test_ordering_operators_compare_numbers_and_strings(op, left, right, expected):
    who = subject(attributes={"a": left, "b": right})
    assert holds({op: ["subject.attributes.a", "subject.attributes.b"]}, who) is expected


def test_ordering_compares_datetimes_and_dates():
    who = subject(attributes={"due": NOW + timedelta(hours=1), "day": date(2024, 1, 1)})
    assert holds({"lt": ["context.now", "subject.attributes.due"]}, who)
    assert holds({"gte": ["subject.attributes.day", "subject.attributes.day"]}, who)


@pytest.mark.parametrize("op", ["lt", "lte", "gt", "gte"])
def test_ordering_is_false_on_missing_values_and_type_mismatches(op):
    who = subject(
        attributes={"n": 1, "s": "1", "t": True, "naive": datetime(2024, 1, 1), "list": [1]}
    )
    assert not holds({op: ["subject.attributes.n", "subject.attributes.absent"]}, who)
    assert not holds({op: ["subject.attributes.absent", 1]}, who)
    assert not holds({op: ["subject.attributes.n", "subject.attributes.s"]}, who)
    assert not holds({op: ["subject.attributes.t", 1]}, who)
    assert not holds({op: ["subject.attributes.naive", "context.now"]}, who)
    assert not holds({op: ["subject.attributes.list", "subject.attributes.list"]}, who)


# --- in / not_in --------------------------------------------------------------------------------


def test_in_tests_membership_in_a_literal_list():
    tree = {"in": ["subject.department", ["sales", "ops"]]}
    assert holds(tree, subject(department="ops"))
    assert not holds(tree, subject(department="it"))
    assert not holds(tree, subject(department=None))
    assert holds({"in": ["subject.clearance_level", {"value": [0, 1]}]})


def test_in_tests_membership_in_a_collection_found_by_path():
    who = subject(team=frozenset({"bob"}), attributes={"codes": {1, 2}, "names": ("x",)})
    assert holds({"in": ["resource.owner_id", "subject.team"]}, who, doc(owner_id="bob"))
    assert not holds({"in": ["resource.owner_id", "subject.team"]}, who, doc(owner_id="eve"))
    assert holds({"in": [2, "subject.attributes.codes"]}, who)
    assert holds({"in": ["x", "subject.attributes.names"]}, who)


def test_in_is_false_on_missing_values_and_type_mismatches():
    who = subject(department="sales", attributes={"one": 1, "list": [1], "text": "sales"})
    assert not holds({"in": ["subject.attributes.absent", ["a"]]}, who)
    assert not holds({"in": ["subject.department", "subject.attributes.absent"]}, who)
    assert not holds({"in": ["subject.department", "subject.attributes.text"]}, who)
    assert not holds({"in": ["subject.attributes.list", [[1], 2]]}, who)
    assert not holds({"in": [True, [1]]}, who)
    assert not holds({"in": ["subject.attributes.one", ["1"]]}, who)


def test_not_in_is_true_only_for_a_present_value_absent_from_a_collection():
    tree = {"not_in": ["subject.department", ["sales", "ops"]]}
    assert holds(tree, subject(department="it"))
    assert not holds(tree, subject(department="ops"))
    assert not holds(tree, subject(department=None))
    who = subject(department="it", attributes={"text": "sales"})
    assert not holds({"not_in": ["subject.department", "subject.attributes.text"]}, who)


# --- cidr ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("10.1.2.3", True),
        ("192.168.1.9", True),
        ("192.168.2.1", False),
        ("2001:db8::1", True),
        ("2001:db9::1", False),
        ("::ffff:10.9.9.9", True),
        ("::ffff:8.8.8.8", False),
        ("not-an-ip", False),
        (None, False),
    ],
)
def test_cidr_tests_the_request_ip_against_networks(ip, expected):
    tree = {"cidr": ["context.ip", ["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"]]}
    assert holds(tree, ctx=context(ip=ip)) is expected


def test_cidr_accepts_a_single_network_and_refuses_non_string_addresses():
    assert holds({"cidr": ["context.ip", "10.0.0.0/8"]}, ctx=context(ip="10.0.0.1"))
    ctx = context(attributes={"ip": 167772161})
    assert not holds({"cidr": ["context.attributes.ip", "10.0.0.0/8"]}, ctx=ctx)


# --- time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2024-05-15T07:59:59", False),
        ("2024-05-15T08:00:00", True),
        ("2024-05-15T17:59:59", True),
        ("2024-05-15T18:00:00", False),
    ],
)
def test_time_between_includes_its_start_and_excludes_its_end(instant, expected):
    assert holds({"time_between": ["08:00", "18:00"]}, ctx=at(instant)) is expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2024-05-15T21:59", False),
        ("2024-05-15T22:00", True),
        ("2024-05-15T23:59", True),
        ("2024-05-16T00:00", True),
        ("2024-05-16T05:59:59", True),
        ("2024-05-16T06:00", False),
        ("2024-05-15T12:00", False),
    ],
)
def test_time_between_handles_windows_that_cross_midnight(instant, expected):
    assert holds({"time_between": ["22:00", "06:00:00"]}, ctx=at(instant)) is expected


def test_time_between_reads_the_clock_in_the_given_time_zone():
    tree = {"time_between": ["08:00", "18:00", "Europe/Berlin"]}
    assert holds(tree, ctx=at("2024-05-15T06:00"))  # 08:00 in Berlin (CEST)
    assert not holds(tree, ctx=at("2024-05-15T16:00"))  # 18:00 in Berlin
    assert holds({"time_between": ["08:00", "18:00", "UTC"]}, ctx=at("2024-05-15T16:00"))


def test_weekday_in_matches_days_monday_zero():
    assert holds({"weekday_in": [2]}, ctx=at("2024-05-15T10:00"))  # Wednesday
    assert not holds({"weekday_in": [0, 1, 3, 4, 5, 6]}, ctx=at("2024-05-15T10:00"))


def test_weekday_in_may_use_a_time_zone():
    late_friday_utc = at("2024-05-17T23:30")  # Saturday 01:30 in Berlin
    assert holds({"weekday_in": {"days": [5], "tz": "Europe/Berlin"}}, ctx=late_friday_utc)
    assert not holds({"weekday_in": {"days": [5]}}, ctx=late_friday_utc)


def test_business_days_are_monday_to_friday():
    assert holds({"business_days": True}, ctx=at("2024-05-17T23:30"))  # Friday
    assert not holds({"business_days": True}, ctx=at("2024-05-18T10:00"))  # Saturday
    assert not holds({"business_days": {"tz": "Europe/Berlin"}}, ctx=at("2024-05-17T23:30"))


def test_working_hours_need_a_business_day_and_the_hours():
    tree = {"working_hours": {"start": "09:00", "end": "17:00", "tz": "UTC"}}
    assert holds(tree, ctx=at("2024-05-15T09:00"))
    assert not holds(tree, ctx=at("2024-05-15T17:00"))
    assert not holds(tree, ctx=at("2024-05-15T08:59"))
    assert not holds(tree, ctx=at("2024-05-18T10:00"))  # Saturday


def test_working_hours_default_to_nine_to_five_utc():
    assert holds({"working_hours": True}, ctx=at("2024-05-15T16:59"))
    assert not holds({"working_hours": {}}, ctx=at("2024-05-15T17:00"))
    assert holds({"working_hours": {"tz": "America/New_York"}}, ctx=at("2024-05-15T20:00"))


# --- organisation -------------------------------------------------------------------------------


def test_reports_to_tests_the_subjects_manager_chain():
    who = subject(manager_chain=("bob", "carol"))
    assert holds({"reports_to": "resource.owner_id"}, who, doc(owner_id="carol"))
    assert not holds({"reports_to": "resource.owner_id"}, who, doc(owner_id="dave"))
    assert not holds({"reports_to": "resource.owner_id"}, who, doc(owner_id=None))
    assert holds({"reports_to": "bob"}, who)
    assert holds({"reports_to": {"value": "bob"}}, who)


def test_in_org_tree_tests_the_subjects_team_including_the_subject():
    who = subject(team=frozenset({"bob"}))
    assert holds({"in_org_tree": "resource.owner_id"}, who, doc(owner_id="bob"))
    assert holds({"in_org_tree": "resource.owner_id"}, who, doc(owner_id="alice"))
    assert not holds({"in_org_tree": "resource.owner_id"}, who, doc(owner_id="eve"))
    assert not holds({"in_org_tree": "resource.owner_id"}, who, None)


def test_same_department_needs_both_departments_equal():
    tree = {"same_department": True}
    assert holds(tree, subject(department="sales"), doc(department="sales"))
    assert not holds(tree, subject(department="sales"), doc(department="ops"))
    assert not holds(tree, subject(department=None), doc(department=None))
    assert not holds(tree, subject(department="sales"), None)


# --- request and subject facts ------------------------------------------------------------------


def test_risk_below_compares_the_risk_score_strictly():
    assert holds({"risk_below": 50}, ctx=context(risk_score=49.9))
    assert not holds({"risk_below": 50}, ctx=context(risk_score=50))
    assert holds({"risk_below": 0.5}, ctx=context(risk_score=0))
    assert not holds({"risk_below": 50}, ctx=context(risk_score=None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("op", "field"), [("mfa_verified", "mfa_verified"), ("trusted_device", "device_trusted")]
)
def test_context_flags_must_be_exactly_true(op, field):
    assert holds({op: True}, ctx=context(**{field: True}))
    assert not holds({op: True}, ctx=context(**{field: False}))
    assert not holds({op: True}, ctx=context(**{field: 1}))


def test_gdpr_consented_reads_a_truthy_subject_attribute():
    assert holds({"gdpr_consented": True}, subject(attributes={"gdpr_consented": True}))
    assert not holds({"gdpr_consented": True}, subject(attributes={"gdpr_consented": False}))
    assert not holds({"gdpr_consented": True}, subject())


def test_classification_lte_compares_with_the_clearance_level():
    who = subject(clearance_level=2)
    assert holds({"classification_lte": True}, who, doc(classification=1))
    assert holds({"classification_lte": True}, who, doc(classification=2))
    assert not holds({"classification_lte": True}, who, doc(classification=3))
    assert not holds({"classification_lte": True}, who, doc())
    assert not holds({"classification_lte": True}, who, doc(classification="1"))
    assert not holds({"classification_lte": True}, who, doc(classification=True))
    assert not holds({"classification_lte": True}, who, None)


def test_has_qualification_reads_the_subjects_records_not_its_attributes():
    tree = {"has_qualification": "hplc"}
    assert holds(tree, subject(qualifications=(Qualification("hplc", 1),)))
    assert not holds(tree, subject(attributes={"qualifications": ["hplc"]}))
    assert not holds(tree, subject())


# --- combinators --------------------------------------------------------------------------------

TRUE = {"eq": [1, 1]}
FALSE = {"eq": [1, 2]}


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ({"all": [TRUE, TRUE]}, True),
        ({"all": [TRUE, FALSE]}, False),
        ({"any": [FALSE, TRUE]}, True),
        ({"any": [FALSE, FALSE]}, False),
        ({"not": TRUE}, False),
        ({"not": FALSE}, True),
        ({"all": [{"any": [FALSE, {"not": FALSE}]}, TRUE]}, True),
    ],
)
def test_all_any_and_not_combine_conditions(tree, expected):
    assert holds(tree) is expected


def test_a_trace_records_every_node_without_short_circuit():
    trace = compile_condition({"any": [TRUE, {"not": FALSE}]}).trace(subject(), None, context())
    assert trace.to_json() == {
        "op": "any",
        "path": "condition",
        "result": True,
        "args": None,
        "children": [
            {
                "op": "eq",
                "path": "condition.any[0]",
                "result": True,
                "args": [1, 1],
                "children": [],
                "detail": None,
            },
            {
                "op": "not",
                "path": "condition.any[1]",
                "result": True,
                "args": None,
                "children": [
                    {
                        "op": "eq",
                        "path": "condition.any[1].not",
                        "result": False,
                        "args": [1, 2],
                        "children": [],
                        "detail": None,
                    }
                ],
                "detail": None,
            },
        ],
        "detail": None,
    }


def test_a_missing_value_shows_as_missing():
    from tessera.engine.operands import MISSING

    assert repr(MISSING) == "MISSING"


def test_a_condition_pickles_as_its_tree_and_still_works():
    condition = compile_condition(
        {"all": [{"mfa_verified": True}, {"cidr": ["context.ip", "10.0.0.0/8"]}]}
    )
    copy = pickle.loads(pickle.dumps(condition))
    assert copy.tree == condition.tree
    ctx = context(ip="10.0.0.1", mfa_verified=True)
    assert copy(subject(), None, ctx) is True
    assert repr(copy).startswith("Condition({'all'")


def test_equal_trees_share_one_compiled_condition():
    first = compile_condition({"all": [{"mfa_verified": True}, {"risk_below": 50}]})
    second = compile_condition({"all": [{"mfa_verified": True}, {"risk_below": 50}]})
    assert first is second


def test_large_trees_compile_without_being_shared():
    names = [f"department-{i:04d}" for i in range(400)]
    first = compile_condition({"in": ["subject.department", names]})
    second = compile_condition({"in": ["subject.department", names]})
    assert first is not second
    assert first(subject(department="department-0399"), None, context())


def test_explanations_hand_out_copies_of_the_tree():
    condition = compile_condition({"in": ["subject.department", ["sales"]]})
    data = condition.trace(subject(), None, context()).to_json()
    data["args"][1].append("ops")
    assert condition.tree == {"in": ["subject.department", ["sales"]]}


def test_compiling_copies_the_tree_into_plain_json():
    source = {"in": ["subject.department", ("a", "b")]}
    condition = compile_condition(source)
    assert condition.tree == {"in": ["subject.department", ["a", "b"]]}
    source["in"] = []
    assert condition.tree == {"in": ["subject.department", ["a", "b"]]}
