import pytest

pytestmark = pytest.mark.urls("tests.foundation.urls")


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert response["X-Request-ID"]
    return body


def test_unknown_route_is_a_problem_404(client, db):
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.get("/nothing"), 404)


def test_wrong_method_is_a_problem_405(client, db):
    body = assert_problem(client.delete("/healthz"), 405)
    assert "DELETE" in body["detail"]


def test_unexpected_exception_is_a_500_without_internals(client, db, caplog):
    client.raise_request_exception = False
    r = client.get("/t/boom", headers={"X-Request-ID": "req-12345678"})
    body = assert_problem(r, 500)
    assert "passwd" not in r.content.decode()
    assert body["request_id"] == "req-12345678"
    assert any("req-12345678" == getattr(rec, "request_id", None) for rec in caplog.records)


def test_a_database_that_does_not_answer_is_a_503_problem_to_retry(client, db):
    client.raise_request_exception = False
    r = client.get("/t/database-down")
    body = assert_problem(r, 503)
    assert body["code"] == "service_unavailable"
    assert r["Retry-After"] == "5"
    assert "5432" not in r.content.decode()


def test_health_and_readiness(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_openapi_document_and_docs_are_served(client, db):
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3")
    assert client.get("/api/docs").status_code == 200


def test_an_oversized_body_is_a_problem_413(client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = client.post("/api/v1/auth/login", "x" * 5000, content_type="application/json")
    assert_problem(r, 413)


def test_malformed_json_is_a_problem_400(client, db):
    assert_problem(client.post("/api/v1/auth/login", "{", content_type="application/json"), 400)


def test_wrong_types_are_a_problem_422_with_field_errors(client, db):
    r = client.post("/api/v1/auth/login", {"email": 5}, content_type="application/json")
    body = assert_problem(r, 422)
    assert {e["field"] for e in body["errors"]} >= {"email", "password"}
