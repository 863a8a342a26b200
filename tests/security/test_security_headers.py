"""Every answer carries the security headers: API JSON, problems (404, 405, 429, 500), probes,
JWKS, SCIM, CORS preflights, the admin and the API docs (with the CSP each renders under), and
the pages for people keep their own CSP."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.security_headers import (
    ADMIN_CSP,
    API_CSP,
    API_DOCS_CSP,
    API_SECURITY_HEADERS,
    API_SECURITY_HEADERS_ASGI,
)
from tests.authn.conftest import bearer, login
from tests.factories import make_member

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def assert_secured(response, csp: str = API_CSP) -> None:
    for name, value in COMMON.items():
        assert response[name] == value, (name, response.status_code)
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Content-Security-Policy"] == csp


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/healthz", 200),
        ("get", "/readyz", 200),
        ("get", "/.well-known/jwks.json", 200),
        ("get", "/api/openapi.json", 200),
        ("get", "/api/v1/auth/me", 401),
        ("post", "/api/v1/auth/login", 422),
        ("get", "/api/v1/no-such-thing", 404),
        ("get", "/no/such/page", 404),
        ("delete", "/healthz", 405),
        ("get", "/scim/v2/Users", 401),
        ("get", "/admin/login/", 200),
    ],
)
def test_answers_carry_the_security_headers(client, db, method, path, status):
    kwargs = {"content_type": "application/json", "data": "{}"} if method == "post" else {}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert_secured(response, ADMIN_CSP if path.startswith("/admin/") else API_CSP)


def test_an_authenticated_api_answer_and_a_rate_limited_one(client, tenant, settings):
    make_member(tenant, "h@example.test", roles=["viewer"])
    token = login(client, "h@example.test", tenant="acme").json()["access_token"]
    settings.RATE_LIMIT_API = "1/minute"
    ok = client.get("/api/v1/auth/me", headers=bearer(token))
    limited = client.get("/api/v1/auth/me", headers=bearer(token))
    assert (ok.status_code, limited.status_code) == (200, 429)
    assert_secured(ok)
    assert_secured(limited)


def test_the_500_fallback_carries_them(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("tessera.api.health.JsonResponse", broken)
    response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert_secured(response)


def test_the_api_docs_render_under_their_own_policy(client, db):
    for path in ("/api/docs", "/api/redoc"):
        response = client.get(path)
        assert response.status_code == 200
        assert_secured(response, API_DOCS_CSP)


def test_the_pages_for_people_keep_their_stricter_policy(client, db):
    response = client.get("/signin/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert csp != API_CSP and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_view_that_sets_its_own_header_keeps_it(client, db, monkeypatch):
    from django.http import JsonResponse

    def healthz(request):
        answer = JsonResponse({"status": "ok"})
        answer["Referrer-Policy"] = "no-referrer"
        return answer

    monkeypatch.setattr("tessera.api.health.JsonResponse", lambda body: healthz(None))
    response = client.get("/healthz")
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_asgi_form_is_the_same_set():
    assert [(n.decode(), v.decode()) for n, v in API_SECURITY_HEADERS_ASGI] == [
        (n.lower(), v) for n, v in API_SECURITY_HEADERS
    ]
