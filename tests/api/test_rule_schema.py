"""The served OpenAPI document types rules, field rules and the condition language.

The operator list comes from the engine: an operator added there without a schema in
`tessera.api.rule_schema` fails here. Validation stays the engine's (tests/api cover its
422 messages); these schemas only document it.
"""

from __future__ import annotations

import re

import pytest

from tessera.api.rule_schema import LINK
from tessera.engine.conditions import COMBINATORS, compile_condition
from tessera.engine.errors import ConditionError, PolicyError
from tessera.engine.model import EFFECTS, SCOPES
from tessera.engine.operators import OPERATORS
from tessera.engine.permissions import validate_permission

RULE = {"$ref": "#/components/schemas/Rule"}


@pytest.fixture
def document(client, db):
    return client.get("/api/openapi.json").json()


@pytest.fixture
def schemas(document):
    return document["components"]["schemas"]


def refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_rule_is_typed(schemas):
    rule = schemas["Rule"]["properties"]
    assert rule["effect"]["enum"] == sorted(EFFECTS) == ["allow", "deny"]
    assert set(rule["scope"]["enum"]) == set(SCOPES) == {"all", "own", "team", "department"}
    assert rule["fields"]["additionalProperties"] == {"$ref": "#/components/schemas/FieldAccess"}
    flags = schemas["FieldAccess"]["properties"]
    assert flags == {
        "read": {"type": "boolean", "default": False},
        "write": {"type": "boolean", "default": False},
    }
    assert {"$ref": "#/components/schemas/Condition"} in rule["condition"]["anyOf"]
    assert schemas["Rule"]["additionalProperties"] is False


@pytest.mark.parametrize(
    "permission",
    ["doc:read", "doc:*", "*:*", "a.b-c_d:x.y", "Doc:read", "doc", "*:read", "doc:", "", "d:r:x"],
)
def test_the_permission_pattern_agrees_with_the_engine(schemas, permission):
    pattern = schemas["Rule"]["properties"]["permission"]["pattern"]
    try:
        validate_permission(permission)
        valid = True
    except PolicyError:
        valid = False
    assert (re.search(pattern, permission) is not None) is valid


def test_every_engine_operator_has_a_condition_schema(schemas):
    alternatives = schemas["Condition"]["anyOf"]
    described = set()
    for alternative in alternatives:
        assert alternative["type"] == "object"
        assert alternative["additionalProperties"] is False
        (op,) = alternative["required"]
        assert list(alternative["properties"]) == [op]
        described.add(op)
    assert described == set(OPERATORS) | COMBINATORS


def test_the_condition_language_is_recursive(schemas):
    by_op = {
        alt["required"][0]: alt["properties"][alt["required"][0]]
        for alt in schemas["Condition"]["anyOf"]
    }
    condition = {"$ref": "#/components/schemas/Condition"}
    assert by_op["all"]["items"] == condition and by_op["all"]["minItems"] == 1
    assert by_op["any"]["items"] == condition
    assert by_op["not"] == condition
    assert by_op["eq"]["items"] == {"$ref": "#/components/schemas/ConditionOperand"}
    assert by_op["same_department"] == {"const": True}


@pytest.mark.parametrize(
    ("schema", "field"),
    [("RoleIn", "rules"), ("RoleOut", "rules"), ("RulesIn", "rules"), ("RulesOut", "rules")],
)
def test_rules_of_roles_and_overrides_are_rules(schemas, schema, field):
    assert schemas[schema]["properties"][field]["items"] == RULE


def test_role_patch_rules_are_rules_or_null(schemas):
    assert {"type": "array", "items": RULE} in schemas["RolePatch"]["properties"]["rules"]["anyOf"]


def test_every_reference_resolves_and_no_mark_is_left(document, schemas):
    for ref in refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert LINK not in str(document)


VALID_CONDITIONS = [
    {"all": [{"same_department": True}, {"not": {"mfa_verified": True}}]},
    {"any": [{"eq": ["subject.department", {"value": "sales.emea"}]}, {"ne": ["a", 1]}]},
    {"lt": ["context.risk_score", 50]},
    {"gte": ["subject.clearance_level", "resource.attributes.level"]},
    {"in": ["subject.department", ["sales", "ops"]]},
    {"not_in": ["subject.department", ["it"]]},
    {"exists": "resource.department"},
    {"cidr": ["context.ip", ["10.0.0.0/8", "2001:db8::/32"]]},
    {"cidr": ["context.ip", "10.0.0.0/8"]},
    {"time_between": ["08:00", "18:00", "Europe/Berlin"]},
    {"time_between": ["22:00:30", "06:00"]},
    {"weekday_in": [0, 1, 2, 3, 4]},
    {"weekday_in": {"days": [5, 6], "tz": "Europe/Berlin"}},
    {"business_days": True},
    {"business_days": {"tz": "Europe/Berlin"}},
    {"working_hours": {"start": "09:00", "end": "17:00", "tz": "UTC"}},
    {"reports_to": "resource.owner_id"},
    {"in_org_tree": "resource.owner_id"},
    {"risk_below": 50},
    {"trusted_device": True},
    {"gdpr_consented": True},
    {"classification_lte": True},
    {"has_qualification": "hplc"},
    {"has_qualification": {"code": "hplc", "min_level": 3}},
    {"has_qualification": {"code": "hplc"}},
]
INVALID_CONDITIONS = [
    {},
    {"eq": ["a", 1], "ne": ["a", 2]},
    {"all": []},
    {"nope": True},
    {"eq": ["a"]},
    {"same_department": False},
    {"weekday_in": [7]},
    {"time_between": ["25:00", "06:00"]},
    {"working_hours": {"from": "09:00"}},
    {"risk_below": "low"},
    {"has_qualification": ""},
    {"has_qualification": {"code": "hplc", "min_level": 6}},
    {"has_qualification": {"code": "hplc", "level": 3}},
    {"eq": ["a", {"value": 1, "other": 2}]},
]


@pytest.fixture
def condition_validator(schemas):
    import jsonschema_rs  # schemathesis's validator (a test dependency)

    root = {"components": {"schemas": schemas}, "$ref": "#/components/schemas/Condition"}
    return jsonschema_rs.Draft202012Validator(root)


@pytest.mark.parametrize("tree", VALID_CONDITIONS, ids=lambda tree: next(iter(tree)))
def test_the_schema_admits_what_the_engine_compiles(condition_validator, tree):
    compile_condition(tree)
    assert condition_validator.is_valid(tree), tree


@pytest.mark.parametrize("tree", INVALID_CONDITIONS, ids=str)
def test_the_schema_refuses_what_the_engine_refuses(condition_validator, tree):
    with pytest.raises(ConditionError):
        compile_condition(tree)
    assert not condition_validator.is_valid(tree), tree


def test_a_typed_rule_validates(schemas):
    import jsonschema_rs

    root = {"components": {"schemas": schemas}, "$ref": "#/components/schemas/Rule"}
    validator = jsonschema_rs.Draft202012Validator(root)
    rule = {
        "effect": "allow",
        "permission": "doc:read",
        "scope": "team",
        "condition": {"business_days": True},
        "fields": {"salary": {"read": True, "write": False}},
    }
    assert validator.is_valid(rule)
    assert validator.is_valid({**rule, "condition": None})
    assert not validator.is_valid({**rule, "scope": "everyone"})
    assert not validator.is_valid({**rule, "fields": {"salary": {"read": "yes"}}})
    assert not validator.is_valid({**rule, "extra": 1})
