"""The JSON Schema of rules and of the condition language, for the OpenAPI document only.

The engine's compiler stays the validator (its 422 messages name the bad node); these schemas
describe what it accepts so that clients and generated SDKs see typed rules. `RuleList` is the
annotation for `rules` fields: it validates exactly like `list[dict[str, Any]]` and documents
itself as a list of `Rule`. Each engine operator has its operand shape in `OPERATOR_SCHEMAS`
(docs/engine.md explains their meaning); a test fails when the engine gains an operator that has
none here.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import WithJsonSchema

from tessera.engine.model import EFFECTS, SCOPES

_REF = "#/components/schemas/"
CONDITION_REF: Final = {"$ref": f"{_REF}Condition"}
OPERAND_REF: Final = {"$ref": f"{_REF}ConditionOperand"}

_TRUE: dict[str, Any] = {"const": True}
_TIME: dict[str, Any] = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
}
_ZONE: dict[str, Any] = {
    "type": "string",
    "description": "an IANA time zone (`Europe/Berlin`, `UTC`)",
}
_WEEKDAYS: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "integer", "minimum": 0, "maximum": 6},
    "description": "0 (Monday) to 6 (Sunday)",
}
_PATH: dict[str, Any] = {
    "type": "string",
    "description": "a path: `subject.…`, `resource.…` or `context.…`",
}


def _pair(description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "items": OPERAND_REF,
        "description": description,
    }


def _options(**properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "anyOf": [
            _TRUE,
            {"type": "object", "properties": properties, "additionalProperties": False},
        ]
    }


OPERATOR_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "all": {"type": "array", "minItems": 1, "items": CONDITION_REF},
    "any": {"type": "array", "minItems": 1, "items": CONDITION_REF},
    "not": CONDITION_REF,
    "eq": _pair("[left, right]"),
    "ne": _pair("[left, right]; false when the kinds differ"),
    "lt": _pair("[left, right]"),
    "lte": _pair("[left, right]"),
    "gt": _pair("[left, right]"),
    "gte": _pair("[left, right]"),
    "in": _pair("[item, list or path to a list]"),
    "not_in": _pair("[item, list or path to a list]"),
    "cidr": {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "prefixItems": [
            OPERAND_REF,
            {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "minItems": 1, "items": {"type": "string"}},
                ],
                "description": "a network or a list of networks (CIDR)",
            },
        ],
        "description": "[address, networks]",
    },
    "time_between": {
        "type": "array",
        "minItems": 2,
        "maxItems": 3,
        "prefixItems": [_TIME, _TIME, _ZONE],
        "description": "['HH:MM', 'HH:MM'] or ['HH:MM', 'HH:MM', 'Zone/Name']; may cross midnight",
    },
    "weekday_in": {
        "anyOf": [
            _WEEKDAYS,
            {
                "type": "object",
                "required": ["days"],
                "properties": {"days": _WEEKDAYS, "tz": _ZONE},
                "additionalProperties": False,
            },
        ]
    },
    "business_days": _options(tz=_ZONE),
    "working_hours": _options(start=_TIME, end=_TIME, tz=_ZONE),
    "reports_to": {"type": "string", "description": "a path or a user id"},
    "in_org_tree": {"type": "string", "description": "a path or a user id"},
    "same_department": _TRUE,
    "exists": _PATH,
    "risk_below": {"type": "number"},
    "mfa_verified": _TRUE,
    "trusted_device": _TRUE,
    "gdpr_consented": _TRUE,
    "classification_lte": _TRUE,
    "has_qualification": {
        "anyOf": [
            {"type": "string", "minLength": 1, "maxLength": 64, "description": "code, level 1"},
            {
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {"type": "string", "minLength": 1, "maxLength": 64},
                    "min_level": {"type": "integer", "minimum": 1, "maximum": 5},
                },
                "additionalProperties": False,
            },
        ],
        "description": "a non-revoked qualification record of the code, at least min_level, "
        "valid at decision time",
    },
}
"""Each operator's argument; `all`, `any` and `not` are the combinators."""


def _node(op: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": op,
        "required": [op],
        "properties": {op: schema},
        "additionalProperties": False,
    }


CONDITION_SCHEMA: Final[dict[str, Any]] = {
    "title": "Condition",
    "description": (
        "A condition tree: an object with exactly one operator. `all`/`any` take a non-empty "
        "list of conditions, `not` one condition; the other operators are leaves (docs/engine.md). "
        "At most 32 levels deep and 1000 values."
    ),
    "anyOf": [_node(op, schema) for op, schema in OPERATOR_SCHEMAS.items()],
}
OPERAND_SCHEMA: Final[dict[str, Any]] = {
    "title": "ConditionOperand",
    "description": (
        "A path (`subject.department`, `resource.attributes.level`, `context.ip`, …) or a "
        'literal; a literal string that looks like a path is written `{"value": …}`. Never null.'
    ),
    "anyOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array"},
        {
            "type": "object",
            "required": ["value"],
            "properties": {"value": {}},
            "additionalProperties": False,
        },
    ],
}
FIELD_ACCESS_SCHEMA: Final[dict[str, Any]] = {
    "title": "FieldAccess",
    "type": "object",
    "properties": {
        "read": {"type": "boolean", "default": False},
        "write": {"type": "boolean", "default": False},
    },
    "additionalProperties": False,
}
RULE_SCHEMA: Final[dict[str, Any]] = {
    "title": "Rule",
    "type": "object",
    "required": ["effect", "permission"],
    "properties": {
        "effect": {"type": "string", "enum": sorted(EFFECTS)},
        "permission": {
            "type": "string",
            "pattern": r"^([a-z][a-z0-9_.\-]{0,63}:([a-z][a-z0-9_.\-]{0,63}|\*)|\*:\*)$",
            "description": "`resource:action`, `resource:*` or `*:*`",
        },
        "scope": {"type": "string", "enum": sorted(SCOPES), "default": "all"},
        "condition": {"anyOf": [CONDITION_REF, {"type": "null"}]},
        "fields": {
            "type": "object",
            "additionalProperties": {"$ref": f"{_REF}FieldAccess"},
            "description": "field-level access granted (allow) or withheld (deny) by the rule",
        },
    },
    "additionalProperties": False,
}
COMPONENTS: Final[dict[str, dict[str, Any]]] = {
    "Rule": RULE_SCHEMA,
    "FieldAccess": FIELD_ACCESS_SCHEMA,
    "Condition": CONDITION_SCHEMA,
    "ConditionOperand": OPERAND_SCHEMA,
}
"""Added to the OpenAPI document's `components.schemas`."""

LINK: Final = "x-tessera-schema"
"""Marks where a component goes: pydantic refuses `$ref`s to schemas it did not generate, so the
annotation names the component and `link_components` turns the mark into a `$ref`."""

RuleList = Annotated[
    list[dict[str, Any]],
    WithJsonSchema({"type": "array", "items": {LINK: "Rule"}}),
]
"""`rules`: validated by the engine (as a list of objects here), documented as `Rule`s."""


def link_components(node: Any) -> None:
    """Replace each mark by its `$ref`, in place."""
    if isinstance(node, dict):
        name = node.pop(LINK, None)
        if name is not None:
            node["$ref"] = f"{_REF}{name}"
        for value in node.values():
            link_components(value)
    elif isinstance(node, list):
        for value in node:
            link_components(value)
