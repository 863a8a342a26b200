"""The Django middleware and decorators against the fake Tessera (sync and async views)."""

from __future__ import annotations

import json

import django
import httpx
import pytest
from django.conf import settings

from conftest import BASE_URL

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        DATABASES={},
        MIDDLEWARE=["tessera_client.django.TesseraMiddleware"],
        TESSERA_CLIENT={"BASE_URL": BASE_URL, "ANY_TENANT": True},
        USE_TZ=True,
    )
    django.setup()

from django.http import JsonResponse  # noqa: E402
from django.test import AsyncClient, Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from tessera_client import KeySet, Resource, TesseraClient  # noqa: E402
from tessera_client import django as tessera_django  # noqa: E402
from tessera_client.django import (  # noqa: E402
    permission_required,
    principal_required,
    tenant_role_required,
)

CHECK = "/api/v1/authz/check"


def open_view(request):
    principal = request.principal
    return JsonResponse({"user": principal.user_id if principal else None})


@principal_required
def whoami(request):
    return JsonResponse({"user": request.principal.user_id, "tenant": request.principal.tenant_id})


@permission_required("invoice:approve", id_kwarg="invoice_id")
def approve(request, invoice_id):
    return JsonResponse({"approved": invoice_id})


@permission_required("invoice:read")
async def read_async(request, invoice_id):
    return JsonResponse({"read": invoice_id, "async": True})


@permission_required(
    "invoice:update",
    resource=lambda request, invoice_id: Resource("invoice", id=invoice_id, owner_id="owner-1"),
    context=lambda request: {"channel": "web"},
)
def update(request, invoice_id):
    return JsonResponse({"updated": invoice_id})


@tenant_role_required("admin", "manager")
def admin_sync(request):
    return JsonResponse({"admin": True})


@tenant_role_required("admin")
async def admin_async(request):
    return JsonResponse({"admin": True, "async": True})


urlpatterns = [
    path("open", open_view),
    path("whoami", whoami),
    path("invoices/<str:invoice_id>/approve", approve),
    path("invoices/<str:invoice_id>/read", read_async),
    path("invoices/<str:invoice_id>/update", update),
    path("admin-sync", admin_sync),
    path("admin-async", admin_async),
]


@pytest.fixture(autouse=True)
def tessera(fake, clock):
    client = TesseraClient(
        BASE_URL,
        any_tenant=True,
        keys=KeySet(clock=clock),
        transport=httpx.MockTransport(fake.handler),
        backoff=0.001,
    )
    tessera_django.configure(client)
    yield client
    tessera_django.configure(None)


def bearer(token: str) -> dict[str, dict[str, str]]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == status and body["detail"]
    return body


def test_no_token_leaves_principal_none():
    assert Client().get("/open").json() == {"user": None}
    response = Client().get("/whoami")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_middleware_sets_the_principal_locally(make_token, fake):
    response = Client().get("/whoami", **bearer(make_token("alice", "t1")))
    assert response.json() == {"user": "alice", "tenant": "t1"}
    assert fake.api_calls() == []


@pytest.mark.parametrize(
    "kwargs", [{"expires_in": -60}, {"aud": "x"}, {"iss": "https://evil"}, {"typ": "JWT"}]
)
def test_bad_tokens_are_401_at_the_middleware(make_token, fake, kwargs):
    Client().get("/whoami", **bearer(make_token()))
    before = len(fake.requests)
    assert_problem(Client().get("/open", **bearer(make_token(**kwargs))), 401)
    assert_problem(Client().get("/invoices/1/approve", **bearer(make_token(**kwargs))), 401)
    assert len(fake.requests) == before


def test_permission_required_sync(make_token, fake):
    fake.permissions["alice"] = {"invoice:approve"}
    response = Client().post("/invoices/42/approve", **bearer(make_token("alice")))
    assert response.status_code == 200 and response.json() == {"approved": "42"}
    assert json.loads(fake.requests[-1].content)["resource"] == {"type": "invoice", "id": "42"}
    body = assert_problem(Client().post("/invoices/42/approve", **bearer(make_token("bob"))), 403)
    assert "invoice:approve" in body["detail"]
    assert_problem(Client().post("/invoices/42/approve"), 401)


def test_permission_required_with_a_resource_factory_and_context(make_token, fake):
    fake.permissions["alice"] = {"invoice:update"}
    assert Client().post("/invoices/9/update", **bearer(make_token("alice"))).status_code == 200
    sent = json.loads(fake.requests[-1].content)
    assert sent["resource"] == {"type": "invoice", "id": "9", "owner_id": "owner-1"}
    assert sent["context"] == {"channel": "web"}


def test_async_view_under_the_sync_stack(make_token, fake):
    fake.permissions["alice"] = {"invoice:read"}
    response = Client().get("/invoices/5/read", **bearer(make_token("alice")))
    assert response.json() == {"read": "5", "async": True}
    assert_problem(Client().get("/invoices/5/read", **bearer(make_token("bob"))), 403)


async def test_async_stack_and_async_view(make_token, fake):
    fake.permissions["alice"] = {"invoice:read", "invoice:approve"}
    client = AsyncClient()
    response = await client.get("/invoices/5/read", **bearer(make_token("alice")))
    assert response.status_code == 200 and response.json()["async"] is True
    assert len(fake.paths("/.well-known/jwks.json")) == 1  # fetched off the event loop
    response = await client.post("/invoices/5/approve", **bearer(make_token("alice")))
    assert response.status_code == 200
    assert_problem(await client.get("/invoices/5/read", **bearer(make_token("bob"))), 403)
    assert_problem(await client.get("/invoices/5/read"), 401)
    assert_problem(await client.get("/open", **bearer(make_token(expires_in=-60))), 401)


def test_tenant_role_required(make_token, fake):
    fake.roles["root"] = ["admin"]
    fake.roles["boss"] = ["manager"]
    fake.roles["alice"] = ["member"]
    assert Client().get("/admin-sync", **bearer(make_token("root"))).status_code == 200
    assert Client().get("/admin-sync", **bearer(make_token("boss"))).status_code == 200
    assert_problem(Client().get("/admin-sync", **bearer(make_token("alice"))), 403)
    assert_problem(Client().get("/admin-sync", **bearer(make_token("root", tid=None))), 403)


async def test_tenant_role_required_async(make_token, fake):
    fake.roles["root"] = ["admin"]
    fake.roles["boss"] = ["manager"]
    client = AsyncClient()
    assert (await client.get("/admin-async", **bearer(make_token("root")))).status_code == 200
    assert_problem(await client.get("/admin-async", **bearer(make_token("boss"))), 403)


def test_unreachable_is_503_never_allowed(make_token, fake):
    fake.permissions["alice"] = {"*:*"}
    fake.roles["alice"] = ["admin"]
    token = make_token("alice")
    assert Client().post("/invoices/1/approve", **bearer(token)).status_code == 200
    fake.down = True
    assert_problem(Client().post("/invoices/1/approve", **bearer(token)), 503)
    assert_problem(Client().get("/admin-sync", **bearer(token)), 503)
    assert_problem(Client().get("/invoices/1/read", **bearer(token)), 503)


def test_jwks_unreachable_is_503(make_token, fake):
    fake.down = True
    assert_problem(Client().get("/open", **bearer(make_token())), 503)


def test_revoked_session_is_refused(make_token, fake):
    fake.permissions["alice"] = {"invoice:approve"}
    token = make_token("alice", sid="s-1")
    assert Client().post("/invoices/1/approve", **bearer(token)).status_code == 200
    fake.revoked_sessions.add("s-1")
    assert_problem(Client().post("/invoices/1/approve", **bearer(token)), 401)


def test_client_built_from_settings():
    tessera_django.configure(None)
    with override_settings(
        TESSERA_CLIENT={
            "BASE_URL": "http://iam.test/",
            "AUDIENCE": "crm",
            "DECISION_CACHE_TTL": 3,
            "TENANT_IDS": ["t1"],
        }
    ):
        client = tessera_django.get_client()
        assert client.base_url == "http://iam.test"
        assert client.verifier.audience == "crm" and client.verifier.issuer == "http://iam.test"
        assert client.cache is not None and client.cache.ttl == 3
        assert client.verifier.tenant_ids == {"t1"}
        assert tessera_django.get_client() is client
    assert tessera_django.get_client() is not client  # rebuilt after the settings changed
    with override_settings(TESSERA_CLIENT={}):
        with pytest.raises(RuntimeError):
            tessera_django.get_client()


def test_decorators_validate_their_arguments():
    with pytest.raises(ValueError):
        permission_required("invoice")
    with pytest.raises(ValueError):
        permission_required("a:b:c")
    with pytest.raises(ValueError):
        tenant_role_required()


# -- CSRF, RFC 6750 challenges, roles from the token -------------------------------------------


@tenant_role_required("admin", live=True)
def admin_live(request):
    return JsonResponse({"admin": True, "live": True})


urlpatterns += [path("admin-live", admin_live)]  # noqa: F405

WITH_CSRF = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "tessera_client.django.TesseraMiddleware",
]


@override_settings(MIDDLEWARE=WITH_CSRF)
def test_a_bearer_post_passes_csrf_view_middleware(make_token, fake):
    """Issue 20: a stock project keeps CsrfViewMiddleware; a Bearer POST got Django's HTML
    "CSRF verification failed" page instead of reaching the view."""
    fake.permissions["alice"] = {"invoice:approve"}
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/invoices/42/approve", **bearer(make_token("alice")))
    assert response.status_code == 200, response.content
    assert response.json() == {"approved": "42"}


@override_settings(MIDDLEWARE=WITH_CSRF)
def test_a_refused_bearer_post_is_problem_json_not_the_csrf_page(make_token, fake):
    browser = Client(enforce_csrf_checks=True)
    assert_problem(browser.post("/invoices/42/approve", **bearer(make_token("bob"))), 403)
    assert_problem(browser.post("/invoices/42/approve", **bearer(make_token(aud="x"))), 401)


@override_settings(MIDDLEWARE=WITH_CSRF)
def test_attack_cookie_authenticated_post_keeps_the_csrf_check(make_token, fake):
    """A forged cross-site POST carries the site's cookies but cannot add an Authorization
    header: without a Bearer token, or with the session cookie present, CSRF still applies."""
    fake.permissions["alice"] = {"invoice:approve"}
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/open").status_code == 403  # no token: Django's CSRF check refuses
    browser.cookies[settings.SESSION_COOKIE_NAME] = "a-session"
    refused = browser.post("/invoices/42/approve", **bearer(make_token("alice")))
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("text/html")  # Django's CSRF failure, not the view


def test_a_request_without_a_token_gets_the_challenge_without_an_error():
    response = Client().get("/whoami")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="tessera"'


def test_a_bad_or_revoked_token_gets_error_invalid_token(make_token, fake):
    response = Client().get("/whoami", **bearer(make_token(expires_in=-60)))
    assert response["WWW-Authenticate"] == 'Bearer realm="tessera", error="invalid_token"'
    fake.permissions["alice"] = {"invoice:approve"}
    token = make_token("alice", sid="s-9")
    fake.revoked_sessions.add("s-9")
    response = Client().post("/invoices/1/approve", **bearer(token))
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="tessera", error="invalid_token"'


def test_tenant_role_required_reads_the_roles_claim_without_a_call(make_token, fake):
    ok = Client().get("/admin-sync", **bearer(make_token("root", roles=["admin"])))
    assert ok.status_code == 200
    assert_problem(Client().get("/admin-sync", **bearer(make_token("x", roles=["member"]))), 403)
    assert_problem(Client().get("/admin-sync", **bearer(make_token("y", roles=[]))), 403)
    assert fake.api_calls() == []


async def test_tenant_role_required_async_reads_the_roles_claim(make_token, fake):
    client = AsyncClient()
    ok = await client.get("/admin-async", **bearer(make_token("root", roles=["admin"])))
    assert ok.status_code == 200
    assert_problem(await client.get("/admin-async", **bearer(make_token("x", roles=[]))), 403)
    assert fake.api_calls() == []


def test_tenant_role_required_live_asks_tessera(make_token, fake):
    fake.roles["root"] = []  # the role was removed after the token was issued
    token = make_token("root", roles=["admin"], sid="s-live")
    assert Client().get("/admin-sync", **bearer(token)).status_code == 200  # as fresh as the token
    assert_problem(Client().get("/admin-live", **bearer(token)), 403)  # live: Tessera says no
    fake.roles["root"] = ["admin"]
    assert Client().get("/admin-live", **bearer(token)).status_code == 200
    fake.revoked_sessions.add("s-live")
    assert_problem(Client().get("/admin-live", **bearer(token)), 401)
    assert fake.api_calls() == ["/api/v1/auth/me"] * 3


def test_settings_must_pin_tenants_or_say_any_tenant():
    tessera_django.configure(None)
    with override_settings(TESSERA_CLIENT={"BASE_URL": "http://iam.test"}):
        with pytest.raises(ValueError, match="tenant_ids=.*any_tenant=True"):
            tessera_django.get_client()
    with override_settings(TESSERA_CLIENT={"BASE_URL": "http://iam.test", "ANY_TENANT": True}):
        assert tessera_django.get_client().verifier.tenant_ids is None


@override_settings(MIDDLEWARE=WITH_CSRF, CSRF_FAILURE_VIEW="tessera_client.django.csrf_failure")
def test_the_optional_csrf_failure_view_answers_problem_json():
    refused = Client(enforce_csrf_checks=True).post("/invoices/42/approve")
    body = assert_problem(refused, 403)
    assert body["code"] == "csrf_failed" and "Bearer" in body["detail"]
