"""Issue 12, attack 4 (CSRF part): no cookie authenticates an unsafe API call without the CSRF
token — not with a `text/plain` body either —, JSON endpoints take only `application/json`
(415), and a login that sets the cookie needs an allowed Origin."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.test import Client

from tessera.api.app import api
from tessera.tenancy.models import Tenant
from tessera.testing import admin_session_login
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant, make_user

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
UNSAFE = ("post", "put", "patch", "delete")


def _cookie_browser(email: str, tenant: str = "acme") -> Client:
    browser = Client(enforce_csrf_checks=True)
    r = browser.post(
        LOGIN,
        {"email": email, "password": DEFAULT_PASSWORD, "tenant": tenant, "cookie": True},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    return browser


@pytest.fixture
def acme_admin(db):
    return make_member(make_tenant("acme"), "admin@acme.test", roles=["admin"])


# --- attack 4: cookies without CSRF, text/plain bodies -------------------------------------------


def test_attack_admin_site_session_cannot_post_text_plain_to_the_api_without_csrf(db):
    root = make_user("root@platform.test", is_platform_admin=True)
    browser = Client(enforce_csrf_checks=True)
    admin_session_login(browser, root)
    body = json.dumps({"slug": "evil", "name": "Evil"})
    r = browser.post("/api/v1/tenants", body, content_type="text/plain")
    assert r.status_code in (401, 403, 415), r.content
    r = browser.post("/api/v1/tenants", body, content_type="application/json")
    assert r.status_code in (401, 403), r.content
    assert not Tenant.objects.filter(slug="evil").exists()


def test_attack_admin_site_session_with_csrf_token_still_needs_json(db):
    root = make_user("root@platform.test", is_platform_admin=True)
    browser = Client(enforce_csrf_checks=True)
    admin_session_login(browser, root)
    browser.get("/admin/")  # its logout form sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    body = json.dumps({"slug": "evil", "name": "Evil"})
    r = browser.post(
        "/api/v1/tenants", body, content_type="text/plain", headers={"X-CSRFToken": token}
    )
    assert r.status_code in (401, 403, 415), r.content
    assert not Tenant.objects.filter(slug="evil").exists()


def test_attack_session_cookie_with_text_plain_body_is_refused(acme_admin):
    browser = _cookie_browser("admin@acme.test")
    body = json.dumps({"name": "Renamed"})
    assert browser.patch("/api/v1/tenant", body, content_type="text/plain").status_code == 403
    token = browser.cookies["csrftoken"].value
    r = browser.patch(
        "/api/v1/tenant", body, content_type="text/plain", headers={"X-CSRFToken": token}
    )
    assert r.status_code == 415, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "unsupported_media_type"
    acme_admin.tenant.refresh_from_db()
    assert acme_admin.tenant.name == "Acme"
    r = browser.patch(
        "/api/v1/tenant", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert r.status_code == 200, r.content


def _operations():
    """(method, path) of every unsafe operation that needs a caller, ids filled in."""
    schema = api.get_openapi_schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in UNSAFE and operation.get("security"):
                yield method, re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def test_every_unsafe_cookie_call_without_csrf_is_refused(acme_admin):
    browser = _cookie_browser("admin@acme.test")
    operations = list(_operations())
    assert len(operations) > 20
    for method, path in operations:
        for content_type in ("application/json", "text/plain"):
            r = getattr(browser, method)(path, "{}", content_type=content_type)
            assert r.status_code == 403, (method, path, content_type, r.status_code)
            assert r.json()["code"] == "csrf_failed", (method, path)
    assert browser.get(ME).status_code == 200  # the session is still there


# --- 415 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_json_endpoints_answer_415_to_other_bodies(db, content_type):
    body = json.dumps({"email": "a@example.test", "password": "x"})
    r = Client().post(LOGIN, body, content_type=content_type)
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"


def test_json_with_a_charset_is_json(db):
    body = json.dumps({"email": "nobody@example.test", "password": "wrong"})
    r = Client().post(LOGIN, body, content_type="application/json; charset=utf-8")
    assert r.status_code == 401


def test_logout_ignores_a_text_plain_body(acme_admin):
    browser = Client()
    first, second = (
        browser.post(
            LOGIN,
            {"email": "admin@acme.test", "password": DEFAULT_PASSWORD, "tenant": "acme"},
            content_type="application/json",
        ).json()["access_token"]
        for _ in range(2)
    )
    r = browser.post(
        "/api/v1/auth/logout",
        '{"all": true}',
        content_type="text/plain",
        headers={"Authorization": f"Bearer {first}"},
    )
    assert r.status_code == 204
    assert browser.get(ME, headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_bulk_upload_keeps_accepting_csv(acme_admin):
    browser = _cookie_browser("admin@acme.test")
    token = browser.cookies["csrftoken"].value
    r = browser.post(
        "/api/v1/users/bulk",
        "email,first_name\nbulk1@acme.test,Bulk\n",
        content_type="text/csv",
        headers={"X-CSRFToken": token},
    )
    assert r.status_code in (200, 201, 207), r.content


# --- Origin of a cookie login ------------------------------------------------------------------


def _cookie_login(origin=None, referer=None):
    headers = {}
    if origin is not None:
        headers["Origin"] = origin
    if referer is not None:
        headers["Referer"] = referer
    return Client().post(
        LOGIN,
        {
            "email": "admin@acme.test",
            "password": DEFAULT_PASSWORD,
            "tenant": "acme",
            "cookie": True,
        },
        content_type="application/json",
        headers=headers,
    )


def test_attack_cookie_login_from_another_origin_is_refused(acme_admin):
    r = _cookie_login(origin="https://evil.example")
    assert r.status_code == 403
    assert r.json()["code"] == "origin_not_allowed"
    assert "tessera_session" not in r.cookies
    assert _cookie_login(origin="null").status_code == 403
    assert _cookie_login(referer="https://evil.example/page").status_code == 403


def test_cookie_login_from_allowed_origins(acme_admin, settings):
    settings.PUBLIC_URL = "https://id.example.com"
    settings.CORS_ORIGINS = ["https://app.example.com"]
    assert _cookie_login(origin="https://id.example.com").status_code == 200
    assert _cookie_login(origin="https://app.example.com").status_code == 200
    assert _cookie_login(origin="http://testserver").status_code == 200  # its own origin
    assert _cookie_login(referer="https://app.example.com/signin").status_code == 200
    assert _cookie_login().status_code == 200  # no Origin, no Referer: not a browser


def test_a_token_login_does_not_look_at_the_origin(acme_admin):
    r = Client().post(
        LOGIN,
        {"email": "admin@acme.test", "password": DEFAULT_PASSWORD, "tenant": "acme"},
        content_type="application/json",
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 200
