"""CORS on the API (django-cors-headers): the deployment's origins and each tenant's own
(`settings.cors.allowed_origins`); an origin no one lists gets no Access-Control-* header, so a
browser keeps the answer from its script; credentials only with an allowed origin."""

from __future__ import annotations

import pytest

from tessera.tenancy.services import tenant_settings_update
from tests.api.conftest import Api
from tests.authn.conftest import bearer, login
from tests.factories import make_member, make_tenant

DEPLOYMENT = "https://app.tessera.example"
ACME_APP = "https://portal.acme.example"
EVIL = "https://evil.example"
ME = "/api/v1/auth/me"


@pytest.fixture(autouse=True)
def _deployment_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [DEPLOYMENT]


@pytest.fixture
def acme_lists_its_portal(tenant):
    tenant_settings_update(tenant=tenant, patch={"cors": {"allowed_origins": [ACME_APP]}})
    return tenant


def preflight(client, path=ME, origin=DEPLOYMENT, **headers):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-tenant",
            **headers,
        },
    )


def allowed(response, origin) -> bool:
    granted = response.get("Access-Control-Allow-Origin")
    if granted is None:
        assert "Access-Control-Allow-Credentials" not in response
        return False
    assert granted == origin  # never "*": credentials are allowed
    assert response["Access-Control-Allow-Credentials"] == "true"
    return True


def test_the_deployment_origin_reads_api_answers_with_credentials(client, db):
    response = client.get(ME, headers={"Origin": DEPLOYMENT})
    assert response.status_code == 401
    assert allowed(response, DEPLOYMENT)
    assert "origin" in response["Vary"].lower()
    assert "x-request-id" in response["Access-Control-Expose-Headers"]


def test_an_unlisted_origin_gets_no_cors_headers(client, db):
    response = client.get(ME, headers={"Origin": EVIL})
    assert not allowed(response, EVIL)
    assert not allowed(preflight(client, origin=EVIL), EVIL)
    assert not allowed(client.get(ME, headers={"Origin": "null"}), "null")


def test_a_preflight_allows_the_headers_the_api_reads(client, db):
    response = preflight(client)
    assert response.status_code == 200
    assert allowed(response, DEPLOYMENT)
    allow_headers = response["Access-Control-Allow-Headers"]
    assert {"authorization", "x-tenant", "content-type", "x-csrftoken"} <= {
        h.strip() for h in allow_headers.split(",")
    }
    assert "PATCH" in response["Access-Control-Allow-Methods"]
    assert response["X-Content-Type-Options"] == "nosniff"  # preflights are answers too


def test_cors_is_for_the_api_only(client, db):
    for path in ("/healthz", "/admin/login/", "/signin/"):
        response = client.get(path, headers={"Origin": DEPLOYMENT})
        assert "Access-Control-Allow-Origin" not in response, path


def test_a_tenant_origin_reads_that_tenants_answers_only(client, acme_lists_its_portal, db):
    make_member(acme_lists_its_portal, "ann@acme.test", roles=["viewer"])
    token = login(client, "ann@acme.test", tenant="acme").json()["access_token"]
    response = client.get(ME, headers={"Origin": ACME_APP, **bearer(token)})
    assert response.status_code == 200
    assert allowed(response, ACME_APP)
    # naming the tenant, without a credential (a sign-in page of the portal)
    assert allowed(client.get(ME, headers={"Origin": ACME_APP, "X-Tenant": "acme"}), ACME_APP)
    # a tenant origin is not the deployment's: it does not open another tenant
    make_tenant("globex")
    response = client.get(ME, headers={"Origin": ACME_APP, "X-Tenant": "globex"})
    assert not allowed(response, ACME_APP)


def test_another_tenants_credential_gets_no_headers_for_acmes_origin(
    client, acme_lists_its_portal, other_tenant
):
    make_member(other_tenant, "gus@globex.test", roles=["viewer"])
    token = login(client, "gus@globex.test", tenant="globex").json()["access_token"]
    response = client.get(ME, headers={"Origin": ACME_APP, **bearer(token)})
    assert response.status_code == 200
    assert not allowed(response, ACME_APP)
    # naming acme with globex's credential is refused, and the refusal is not readable either
    response = client.get(ME, headers={"Origin": ACME_APP, "X-Tenant": "acme", **bearer(token)})
    assert response.status_code == 403
    assert not allowed(response, ACME_APP)


def test_a_preflight_passes_for_an_origin_some_tenant_lists(
    client, tenant, django_capture_on_commit_callbacks
):
    assert not allowed(preflight(client, origin=ACME_APP), ACME_APP)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_settings_update(tenant=tenant, patch={"cors": {"allowed_origins": [ACME_APP]}})
    assert allowed(preflight(client, origin=ACME_APP), ACME_APP)  # no minute-long wait
    with django_capture_on_commit_callbacks(execute=True):
        tenant_settings_update(tenant=tenant, patch={"cors": {"allowed_origins": []}})
    assert not allowed(preflight(client, origin=ACME_APP), ACME_APP)


def test_a_preflight_on_a_tenant_subdomain_asks_that_tenant(
    client, acme_lists_its_portal, settings
):
    settings.BASE_DOMAIN = "tessera.example"
    settings.ALLOWED_HOSTS = [".tessera.example"]
    make_tenant("globex")
    on_acme = preflight(client, origin=ACME_APP, HTTP_HOST="acme.tessera.example")
    on_globex = client.options(
        ME,
        headers={"Origin": ACME_APP, "Access-Control-Request-Method": "GET"},
        HTTP_HOST="globex.tessera.example",
    )
    assert allowed(on_acme, ACME_APP)
    assert not allowed(on_globex, ACME_APP)


def test_a_deactivated_tenant_vouches_for_nothing(client, acme_lists_its_portal):
    acme_lists_its_portal.is_active = False
    acme_lists_its_portal.save(update_fields=["is_active"])
    response = client.get(ME, headers={"Origin": ACME_APP, "X-Tenant": "acme"})
    assert not allowed(response, ACME_APP)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("portal.acme.example", "not an origin"),
        ("https://portal.acme.example/app", "no path"),
        ("https://*.acme.example", "wildcards"),
        ("http://portal.acme.example", "use https"),
        ("https://portal.acme.example:99999", "port"),
        ("javascript:alert(1)", "not an origin"),
    ],
)
def test_tenant_origins_are_validated(world, value, message):
    response = Api(world.admin.user, "acme").patch(
        "/tenant", {"settings": {"cors": {"allowed_origins": [value]}}}
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"].startswith("settings.cors.allowed_origins")
    assert message in error["message"]


def test_tenant_origins_are_normalised(world):
    response = Api(world.admin.user, "acme").patch(
        "/tenant",
        {
            "settings": {
                "cors": {
                    "allowed_origins": [
                        "https://Portal.Acme.Example/",
                        "https://portal.acme.example",
                        "http://localhost:5173",
                    ]
                }
            }
        },
    )
    assert response.status_code == 200
    assert response.json()["settings"]["cors"]["allowed_origins"] == [
        "https://portal.acme.example",
        "http://localhost:5173",
    ]
