"""With Redis, an authenticated request reads its credential's state and spends its budget in one
round trip (tessera.api.throttle.ride_along, decision 0030) — and the budget holds exactly as
before: the same counts, the same 429s, across a change of the tenant's limits."""

from __future__ import annotations

import pytest
import redis.connection

from tessera.tenancy.services import tenant_settings_update
from tests.authn.conftest import bearer, login
from tests.factories import make_member

pytestmark = pytest.mark.redis

CHECK = {"action": "user:read"}


@pytest.fixture
def round_trips(monkeypatch):
    """Counts what this process sends to Redis: one send per command or pipeline."""
    sent: list[int] = []
    original = redis.connection.Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    return sent


@pytest.fixture
def token(client, tenant):
    make_member(tenant, "steady@example.test", roles=["admin"])
    return login(client, "steady@example.test", tenant="acme").json()["access_token"]


def _warm(client, token):
    """First requests fill the state keys, load the script and read the tenant's limits."""
    for _ in range(2):
        client.get("/api/v1/auth/me", headers=bearer(token))
        client.post("/api/v1/authz/check", CHECK, content_type="application/json",
                    headers=bearer(token))  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("get", "/api/v1/auth/me", None), ("post", "/api/v1/authz/check", CHECK)],
)
def test_an_authenticated_request_costs_one_redis_round_trip(
    client, token, round_trips, method, path, body
):
    _warm(client, token)
    round_trips.clear()
    kwargs = {"content_type": "application/json", "data": body} if body else {}
    answer = getattr(client, method)(path, headers=bearer(token), **kwargs)
    assert answer.status_code == 200
    assert len(round_trips) == 1


def test_the_budget_counts_each_request_once(client, tenant, token):
    tenant_settings_update(tenant=tenant, patch={"rate_limits": {"api_per_minute": 4}})
    codes = [client.get("/api/v1/auth/me", headers=bearer(token)).status_code for _ in range(6)]
    assert codes == [200, 200, 200, 200, 429, 429]


def test_a_change_of_the_tenants_limits_starts_the_new_budget_exactly(client, tenant, token):
    tenant_settings_update(tenant=tenant, patch={"rate_limits": {"api_per_minute": 2}})
    codes = [client.get("/api/v1/auth/me", headers=bearer(token)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    # the first request after the change spends the old budget's counter on the way (the
    # process's guess), then the new budget once: three requests pass, not two
    tenant_settings_update(tenant=tenant, patch={"rate_limits": {"api_per_minute": 3}})
    codes = [client.get("/api/v1/auth/me", headers=bearer(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_api_keys_spend_their_budget_in_the_same_round_trip(client, tenant, token, round_trips):
    created = client.post(
        "/api/v1/api-keys",
        {"name": "ci", "scopes": ["user:read"]},
        content_type="application/json",
        headers=bearer(token),
    )
    assert created.status_code == 201, created.content
    key = created.json()["key"]
    tenant_settings_update(tenant=tenant, patch={"rate_limits": {"api_per_minute": 3}})
    client.get("/api/v1/auth/me", headers=bearer(key))  # warm: the tenant's limits are read
    round_trips.clear()
    assert client.get("/api/v1/auth/me", headers=bearer(key)).status_code == 200
    assert len(round_trips) == 1
    codes = [client.get("/api/v1/auth/me", headers=bearer(key)).status_code for _ in range(2)]
    assert codes == [200, 429]  # the key's third request of the minute, then its fourth


def test_a_session_bound_to_no_tenant_spends_its_budget_in_the_same_round_trip(
    client, tenant, other_tenant, settings, round_trips
):
    """A person with two memberships signs in without naming a tenant: their session's budget
    (tenant "-") rides along too, counted once per request; naming a tenant with `X-Tenant` is
    refused (switch-tenant is the way) and opens no other budget."""
    member = make_member(tenant, "both@example.test", roles=["viewer"])
    make_member(other_tenant, user=member.user, roles=["viewer"])
    signed_in = login(client, "both@example.test")
    assert signed_in.status_code == 200 and signed_in.json()["tenant"] is None
    token = signed_in.json()["access_token"]
    settings.RATE_LIMIT_API = "3/minute"
    round_trips.clear()
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert len(round_trips) <= 2  # the session's state filled on first use, then one trip
    round_trips.clear()
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert len(round_trips) == 1
    in_acme = {**bearer(token), "X-Tenant": tenant.slug}
    assert client.get("/api/v1/auth/me", headers=in_acme).status_code == 403
    codes = [client.get("/api/v1/auth/me", headers=bearer(token)).status_code for _ in range(2)]
    assert codes == [429, 429]  # two spent, one refused by tenant resolution, then over budget
