"""Completes the OpenAPI document: every operation lists the problem+json errors it can answer.

Views declare their success schema (and specific errors where they matter); the error answers
every operation shares follow from its shape — authenticated → 401/403, an id in the path → 404,
input → 400/413/422, and every call → 429 — and are added here once, so a new endpoint cannot
forget them.
"""

from __future__ import annotations

from typing import Any

from ninja.schema import NinjaGenerateJsonSchema

from tessera.api.problems import Problem
from tessera.api.rule_schema import COMPONENTS as RULE_COMPONENTS
from tessera.api.rule_schema import link_components

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": REF_TEMPLATE.format(model="Problem")}
DESCRIPTIONS = {
    "400": "Malformed request body (not JSON)",
    "401": "Missing, invalid or revoked credentials",
    "403": "Authenticated, but not allowed (permission, API-key scope, or not a member)",
    "404": "No such object in the caller's tenant (another tenant's object answers the same)",
    "413": "Request body larger than the limit",
    "415": "Body not sent as application/json",
    "422": "Invalid input; `errors` lists each field",
    "429": "Rate limited; see the Retry-After header",
}
API_KEY_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": "X-API-Key",
    "description": "An API key `tsk_<prefix>_<secret>` (also accepted as `Authorization: Bearer`)",
}


def _problem_response(code: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[code],
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }
    if code == "429":
        response["headers"] = {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
        }
    return response


def problem_components() -> dict[str, dict[str, Any]]:
    """The JSON Schemas of `Problem` and the models it refers to, keyed by component name."""
    schema = Problem.model_json_schema(
        ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema, mode="serialization"
    )
    components: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    components["Problem"] = schema
    return components


def expected_errors(path: str, operation: dict[str, Any]) -> list[str]:
    codes = ["429"]
    if operation.get("security"):
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    if operation.get("requestBody"):
        codes += ["400", "413", "415", "422"]
    elif has_query or "{" in path:
        codes.append("422")
    return codes


def complete_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """Add the shared error answers (and the API-key scheme) to every operation, and the rule
    and condition schemas, in place."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, schema in problem_components().items():
        schemas.setdefault(name, schema)
    link_components(document)
    for name, schema in RULE_COMPONENTS.items():
        schemas.setdefault(name, schema)
    schemes = components.setdefault("securitySchemes", {})
    schemes.setdefault("ApiKeyAuth", API_KEY_SCHEME)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            present = {str(code) for code in responses}
            for code in expected_errors(path, operation):
                if code not in present:
                    responses[code] = _problem_response(code)
            security = operation.get("security")
            if security and any("BearerAuth" in s for s in security):
                if not any("ApiKeyAuth" in s for s in security):
                    security.append({"ApiKeyAuth": []})
    return document
