"""`compile_policy` and the write-time checks: bad input is refused with a clear `PolicyError`."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta

import pytest

from tessera.engine import (
    COMPILED_FORMAT,
    ConditionError,
    FieldAccess,
    PolicyError,
    RoleDef,
    RuleSpec,
    compile_policy,
    decide,
    effective_permissions,
    find_role_cycle,
    rule_from_json,
    validate_permission,
    validate_rule,
)
from tests.engine.world import (
    NOW,
    allow,
    context,
    delegation,
    deny,
    doc,
    grant,
    holding,
    member,
    policy,
    policy_input,
    role,
    subject,
)

NAIVE = datetime(2024, 1, 1)

# --- permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "permission",
    ["doc:read", "doc:*", "*:*", "api_key:create", "audit_log:read", "lab.sample-2:approve_v2"],
)
def test_valid_permissions_are_returned_unchanged(permission):
    assert validate_permission(permission) == permission


@pytest.mark.parametrize(
    "permission",
    [
        "",
        "doc",
        "doc:",
        ":read",
        "*:read",
        "*",
        "doc:re*",
        "Doc:read",
        "doc:read:x",
        "1doc:read",
        "doc read",
        "d" * 65 + ":read",
        None,
        5,
    ],
)
def test_invalid_permissions_are_refused(permission):
    with pytest.raises(PolicyError, match="bad permission") as raised:
        validate_permission(permission)
    assert raised.value.field == "permission"


# --- role graph ---------------------------------------------------------------------------------


def test_find_role_cycle_returns_none_for_an_acyclic_graph():
    assert find_role_cycle({"a": ["b", "c"], "b": ["c"], "c": [], "d": ["a"]}) is None
    assert find_role_cycle({}) is None


def test_find_role_cycle_returns_the_cycle_path():
    assert find_role_cycle({"a": ["a"]}) == ("a", "a")
    assert find_role_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ("a", "b", "c", "a")
    assert find_role_cycle({"x": ["a"], "a": ["b"], "b": ["a"]}) == ("a", "b", "a")


def test_find_role_cycle_ignores_unknown_parents_and_accepts_any_iterables():
    assert find_role_cycle({"a": iter(["ghost"]), "b": ("a",)}) is None
    assert find_role_cycle({"a": {"b"}, "b": ("a",)}) == ("a", "b", "a")


def test_a_role_cycle_is_refused_at_compile_time():
    roles = [role("a", parents=["b"]), role("b", parents=["a"])]
    with pytest.raises(PolicyError, match=r"role inheritance cycle: a > b > a"):
        policy(roles, [])


def test_an_unknown_parent_is_refused():
    with pytest.raises(PolicyError, match="role 'a' has an unknown parent 'ghost'"):
        policy([role("a", parents=["ghost"])], ["a"])


def test_a_role_filed_under_another_key_is_refused():
    inp = policy_input()
    bad = type(inp)("t1", "m1", {"x": RoleDef("y", (), ())})
    with pytest.raises(PolicyError, match="role 'y' is filed under the key 'x'"):
        compile_policy(bad)


def test_holding_an_undefined_role_is_refused():
    with pytest.raises(PolicyError, match=r"held\[0\]: the held role 'ghost' is not defined"):
        policy([], ["ghost"])


def test_a_held_role_with_a_bad_via_is_refused():
    with pytest.raises(PolicyError, match="bad via 'magic'"):
        policy([role("r")], [holding("r", via="magic")])
    with pytest.raises(PolicyError, match=r"bad via \['x'\]"):
        policy([role("r")], [holding("r", via=["x"])])


def test_holding_a_role_named_by_something_else_than_a_string_is_refused():
    with pytest.raises(PolicyError, match="is not defined"):
        policy([role("r")], [holding(["r"])])


@pytest.mark.parametrize(
    "build",
    [
        lambda: policy([role("r")], [holding("r", not_before=NAIVE)]),
        lambda: policy([role("r")], [holding("r", not_after=NAIVE)]),
        lambda: policy(delegated=[delegation("d", not_before=NAIVE)]),
        lambda: policy(delegated=[delegation("d", not_after=NAIVE)]),
        lambda: policy(grants=[grant("g", "doc:read", "doc", "1", not_after=NAIVE)]),
    ],
)
def test_naive_datetimes_in_time_windows_are_refused(build):
    with pytest.raises(PolicyError, match="must be a timezone-aware datetime"):
        build()


def test_a_policy_error_without_a_field_has_no_error_entries():
    error = PolicyError("role inheritance cycle: a > a")
    assert (error.status, error.code, error.detail, error.errors) == (
        422,
        "policy_invalid",
        "role inheritance cycle: a > a",
        None,
    )


def test_a_naive_context_time_is_refused():
    with pytest.raises(PolicyError, match="context.now must be a timezone-aware datetime"):
        context(NAIVE)


# --- rules --------------------------------------------------------------------------------------


def test_a_bad_permission_in_a_role_rule_names_the_role_and_rule():
    with pytest.raises(PolicyError, match=r"role 'r' rules\[1\]: bad permission 'doc'"):
        policy([role("r", allow("doc:read"), allow("doc"))], ["r"])


@pytest.mark.parametrize(
    ("spec", "message", "field"),
    [
        (RuleSpec("permit", "doc:read"), "overrides[0]: bad effect 'permit'", "effect"),  # type: ignore[arg-type]
        (RuleSpec("allow", "doc:read", "mine"), "bad scope 'mine'", "scope"),  # type: ignore[arg-type]
        (RuleSpec("allow", "doc:read", fields={"x": True}), "fields must map", "fields"),  # type: ignore[dict-item]
        (
            RuleSpec("allow", "doc:read", fields={"": FieldAccess(True, True)}),
            "fields must map",
            "fields",
        ),
        (RuleSpec("allow", "doc:read", fields=[]), "fields must map", "fields"),  # type: ignore[arg-type]
        (
            RuleSpec("allow", "doc:read", condition="x"),
            "a condition must be an object",
            "condition",
        ),  # type: ignore[arg-type]
    ],
)
def test_a_bad_override_is_refused(spec, message, field):
    with pytest.raises(PolicyError) as raised:
        policy(overrides=[spec])
    assert message in str(raised.value)
    assert raised.value.field == field


def test_a_bad_condition_in_a_delegation_keeps_its_path_and_type():
    bad = allow("doc:read", condition={"all": [{"mfa_verified": True}, {"eqq": [1, 1]}]})
    with pytest.raises(ConditionError) as raised:
        policy(delegated=[delegation("d", bad)])
    assert str(raised.value) == "delegated[0].rules[0]: unknown operator 'eqq' at condition.all[1]"
    assert raised.value.path == "condition.all[1]"
    assert raised.value.errors == [
        {"field": "condition", "message": str(raised.value), "code": "condition_invalid"}
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (grant("g", "doc", "doc", "1"), "grants[0]: bad permission 'doc'"),
        (grant("g", "doc:read", "doc", ""), "grants[0]: resource_id must be a non-empty string"),
        (grant("g", "doc:read", "", "1"), "resource_type must be a non-empty string"),
        (grant("", "doc:read", "doc", "1"), "grant_id must be a non-empty string"),
    ],
)
def test_a_bad_grant_is_refused(spec, message):
    with pytest.raises(PolicyError) as raised:
        policy(grants=[spec])
    assert message in str(raised.value)


def test_validate_rule_returns_a_valid_rule_and_refuses_a_bad_one():
    spec = allow("doc:read", condition={"mfa_verified": True})
    assert validate_rule(spec) is spec
    with pytest.raises(PolicyError, match="rule: bad permission"):
        validate_rule(allow("doc:"))


def test_a_rule_reads_from_and_writes_to_its_json_form():
    data = {
        "effect": "deny",
        "permission": "employee:read",
        "scope": "department",
        "condition": {"not": {"mfa_verified": True}},
        "fields": {"salary": {"read": False, "write": False}, "name": {"read": True}},
    }
    spec = rule_from_json(data)
    assert spec == RuleSpec(
        "deny",
        "employee:read",
        "department",
        {"not": {"mfa_verified": True}},
        {"salary": FieldAccess(False, False), "name": FieldAccess(True, False)},
    )
    assert spec.to_json() == {
        **data,
        "fields": {**data["fields"], "name": {"read": True, "write": False}},
    }
    assert rule_from_json({"effect": "allow", "permission": "doc:read"}) == RuleSpec(
        "allow", "doc:read"
    )


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        ([], "a rule must be an object", None),
        (
            {"effect": "allow", "permission": "doc:read", "extra": 1, "zz": 2},
            "unknown rule key(s): extra, zz",
            "extra",
        ),
        (
            {"effect": "allow", "permission": "doc:read", "fields": []},
            "rule fields must be an object",
            "fields",
        ),
        (
            {"effect": "allow", "permission": "doc:read", "fields": {"a": True}},
            "field 'a' must be",
            "fields",
        ),
        (
            {"effect": "allow", "permission": "doc:read", "fields": {"a": {"see": True}}},
            "field 'a' must be",
            "fields",
        ),
        (
            {"effect": "allow", "permission": "doc:read", "fields": {"a": {"read": 1}}},
            "field 'a' must be",
            "fields",
        ),
        ({"permission": "doc:read"}, "bad effect None", "effect"),
        ({"effect": "allow"}, "bad permission None", "permission"),
        ({"effect": ["allow"], "permission": "doc:read"}, "bad effect ['allow']", "effect"),
        ({"effect": "allow", "permission": "doc:read", "scope": {}}, "bad scope {}", "scope"),
        (
            {"effect": "allow", "permission": "doc:read", "condition": {"x": 1}},
            "unknown operator 'x'",
            "condition",
        ),
    ],
)
def test_bad_rule_json_is_refused(data, message, field):
    with pytest.raises(PolicyError) as raised:
        rule_from_json(data)
    assert message in str(raised.value)
    assert raised.value.field == field


def test_rules_of_a_role_reached_twice_are_checked_once_and_compiled_per_source():
    shared = allow("doc:read", condition={"mfa_verified": True})
    roles = [role("base", shared), role("a", parents=["base"]), role("b", parents=["base"])]
    compiled = policy(roles, ["a", "b"])
    conditions = [r.condition for r in compiled.rules]
    assert len(conditions) == 2 and conditions[0] is conditions[1]
    assert [r.info.source.path for r in compiled.rules] == [("a", "base"), ("b", "base")]


# --- effective permissions ----------------------------------------------------------------------


def test_effective_permissions_lists_rules_and_grants_in_force_with_their_sources():
    compiled = policy(
        [role("viewer", allow("doc:read", scope="team")), role("old", allow("doc:delete"))],
        ["viewer", holding("old", not_after=NOW)],
        overrides=[deny("doc:export")],
        delegated=[delegation("dg", allow("doc:approve"), not_before=NOW + timedelta(days=1))],
        grants=[
            grant("g1", "doc:update", "doc", "42"),
            grant("g0", "doc:share", "doc", "1", not_after=NOW),
        ],
    )
    listed = [
        (p.effect, p.permission, p.scope, p.source.kind)
        for p in effective_permissions(compiled, NOW)
    ]
    assert listed == [
        ("deny", "doc:export", "all", "override"),
        ("allow", "doc:read", "team", "role"),
        ("allow", "doc:update", "all", "grant"),
    ]
    earlier = effective_permissions(compiled, NOW - timedelta(seconds=1))
    assert [p.permission for p in earlier] == [
        "doc:export",
        "doc:read",
        "doc:delete",
        "doc:update",
        "doc:share",
    ]
    assert effective_permissions(compiled, NOW)[2].to_json()["resource"] == {
        "type": "doc",
        "id": "42",
    }


def test_effective_permissions_show_field_maps_and_field_level_denies():
    compiled = member(
        allow("employee:read", fields={"name": (True, False)}),
        deny("employee:read", fields={"salary": (False, False)}),
        deny("employee:delete"),
    )
    listed = effective_permissions(compiled, NOW)
    assert [p.field_level for p in listed] == [False, True, False]
    assert listed[0].to_json()["fields"] == {"name": {"read": True, "write": False}}
    assert listed[2].to_json()["fields"] == {}


# --- pickling -----------------------------------------------------------------------------------


def test_a_compiled_policy_survives_pickling_with_its_conditions():
    compiled = policy(
        [
            role(
                "r",
                allow(
                    "doc:update",
                    scope="own",
                    condition={
                        "all": [{"mfa_verified": True}, {"cidr": ["context.ip", ["10.0.0.0/8"]]}]
                    },
                ),
            )
        ],
        ["r"],
        overrides=[deny("doc:update", condition={"not": {"business_days": True}})],
        grants=[grant("g", "doc:read", "doc", "42", not_after=NOW)],
    )
    copy = pickle.loads(pickle.dumps(compiled))
    assert copy.format == COMPILED_FORMAT
    cases = [
        ("doc:update", doc(owner_id="alice"), context(ip="10.1.1.1", mfa_verified=True)),
        ("doc:update", doc(owner_id="alice"), context(ip="11.1.1.1", mfa_verified=True)),
        ("doc:update", doc(owner_id="bob"), context(ip="10.1.1.1", mfa_verified=True)),
        (
            "doc:update",
            doc(owner_id="alice"),
            context(datetime(2024, 5, 18, tzinfo=NOW.tzinfo), ip="10.1.1.1", mfa_verified=True),
        ),
        ("doc:read", doc("42"), context(NOW - timedelta(seconds=1))),
        ("doc:read", doc("42"), context(NOW)),
    ]
    outcomes = []
    for action, resource, ctx in cases:
        for explain in (False, True):
            before = decide(compiled, subject(), action, resource, ctx, explain=explain)
            after = decide(copy, subject(), action, resource, ctx, explain=explain)
            assert after.to_json() == before.to_json()
        outcomes.append(before.allowed)
    assert outcomes == [True, False, False, False, True, False]
