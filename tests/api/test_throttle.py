"""Every API call spends the caller's budget; over budget answers 429 with Retry-After."""

import pytest

from tessera.tenancy.services import tenant_settings_update
from tests.authn.conftest import bearer, login
from tests.factories import make_member


@pytest.fixture
def token(client, tenant):
    make_member(tenant, "busy@example.test", roles=["viewer"])
    return login(client, "busy@example.test", tenant="acme").json()["access_token"]


def test_the_tenant_budget_applies_per_principal(client, tenant, token, settings):
    tenant_settings_update(tenant=tenant, patch={"rate_limits": {"api_per_minute": 3}})
    answers = [client.get("/api/v1/auth/me", headers=bearer(token)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r["Content-Type"] == "application/problem+json"
    assert 1 <= int(r["Retry-After"]) <= 60

    make_member(tenant, "calm@example.test", roles=["viewer"])
    other = login(client, "calm@example.test", tenant="acme").json()["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(other)).status_code == 200


def test_the_deployment_default_applies_without_a_tenant_setting(client, token, settings):
    settings.RATE_LIMIT_API = "2/minute"
    codes = [client.get("/api/v1/auth/me", headers=bearer(token)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_anonymous_callers_are_counted_per_ip(client, db, settings):
    settings.RATE_LIMIT_API = "2/minute"
    post = lambda ip: client.post(  # noqa: E731
        "/api/v1/auth/password/reset",
        {"email": "x@example.test"},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )
    assert [post("10.0.0.1").status_code for _ in range(3)] == [202, 202, 429]
    assert post("10.0.0.2").status_code == 202


def test_bulk_endpoints_have_their_own_smaller_budget(client, tenant, settings):
    make_member(tenant, "bulk@example.test", roles=["admin"])
    token = login(client, "bulk@example.test", tenant="acme").json()["access_token"]
    settings.RATE_LIMIT_BULK = "1/minute"
    body = {"users": [{"email": "row@example.test"}]}
    first = client.post(
        "/api/v1/users/bulk", body, content_type="application/json", headers=bearer(token)
    )
    second = client.post(
        "/api/v1/users/bulk", body, content_type="application/json", headers=bearer(token)
    )
    assert first.status_code == 200 and second.status_code == 429


def test_invalid_tenant_rate_limits_are_refused(tenant):
    from tessera.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        tenant_settings_update(tenant=tenant, patch={"rate_limits": {"api_per_minute": 0}})


def test_decisions_have_their_own_class_sized_for_applications(client, tenant, token, settings):
    """700 checks in a minute pass under the default decision budget, while the API class (here
    5/minute) still refuses its sixth call: the checks spend nothing of it."""
    settings.RATE_LIMIT_API = "5/minute"
    check = {"action": "user:read"}
    codes = {
        client.post(
            "/api/v1/authz/check", check, content_type="application/json", headers=bearer(token)
        ).status_code
        for _ in range(700)
    }
    assert codes == {200}
    codes_me = [client.get("/api/v1/auth/me", headers=bearer(token)).status_code for _ in range(6)]
    assert codes_me == [200] * 5 + [429]
    batch = {"checks": [check] * 3}
    r = client.post(
        "/api/v1/authz/check/batch", batch, content_type="application/json", headers=bearer(token)
    )
    assert r.status_code == 200


def test_the_decision_budget_counts_requests_and_a_tenant_may_set_it(client, tenant, token):
    tenant_settings_update(tenant=tenant, patch={"rate_limits": {"decisions_per_minute": 2}})
    batch = {"checks": [{"action": "user:read"}] * 50}

    def post(path, body):
        answer = client.post(path, body, content_type="application/json", headers=bearer(token))
        return answer.status_code

    assert post("/api/v1/authz/check/batch", batch) == 200  # 50 checks, one request
    assert post("/api/v1/authz/check", {"action": "user:read"}) == 200
    r = client.post(
        "/api/v1/authz/check",
        {"action": "user:read"},
        content_type="application/json",
        headers=bearer(token),
    )
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1
    # the other classes are untouched
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
