"""The OpenAPI document describes every operation with the errors it can answer."""

import pytest

from tessera.api.openapi import problem_components


@pytest.fixture
def document(client, db):
    return client.get("/api/openapi.json").json()


def operations(document):
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def test_every_operation_lists_its_error_answers(document):
    for method, path, op in operations(document):
        codes = {str(c) for c in op["responses"]}
        assert "429" in codes, (method, path)
        if op.get("security"):
            assert {"401", "403"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if op.get("requestBody"):
            assert "422" in codes, (method, path)


def test_errors_are_problem_json_and_api_keys_are_a_security_scheme(document):
    assert "Problem" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "X-API-Key"
    users = document["paths"]["/api/v1/users"]["get"]
    assert "application/problem+json" in users["responses"]["401"]["content"]
    assert {"ApiKeyAuth": []} in users["security"]


def test_the_contract_paths_are_documented(document):
    paths = set(document["paths"])
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/switch-tenant",
        "/api/v1/auth/me",
        "/api/v1/auth/password/change",
        "/api/v1/auth/mfa/verify",
        "/api/v1/auth/mfa/totp/setup",
        "/api/v1/api-keys",
        "/api/v1/tenants",
        "/api/v1/tenant",
        "/api/v1/users",
        "/api/v1/users/bulk",
        "/api/v1/roles",
        "/api/v1/permissions",
        "/api/v1/grants",
        "/api/v1/delegations",
        "/api/v1/authz/check",
        "/api/v1/authz/check/batch",
        "/api/v1/authz/explain",
        "/api/v1/authz/fields",
        "/api/v1/authz/subjects",
        "/api/v1/audit-events",
        "/api/v1/audit-events/export",
        "/api/v1/audit-events/verify",
    ]:
        assert path in paths, path


def test_operation_ids_name_the_area_not_the_file_of_its_views(document):
    ids = {(method, path): op["operationId"] for method, path, op in operations(document)}
    assert len(set(ids.values())) == len(ids)
    assert ids["POST", "/api/v1/auth/login"] == "tessera_api_auth_login"
    assert ids["GET", "/api/v1/users/{user_id}"] == "tessera_api_users_get_user"
    assert ids["PATCH", "/api/v1/auth/me"] == "tessera_api_account_update_me"
    assert not [i for i in ids.values() if "_views_" in i]


def test_the_problem_schema_is_the_one_the_views_declare(document):
    schemas = document["components"]["schemas"]
    for name, schema in problem_components().items():
        assert schemas[name] == schema
