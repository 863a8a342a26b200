"""Account lockout and per-IP blocking of failed logins (the `limits` library)."""

from __future__ import annotations

import pytest
from tests.authn.conftest import login, post
from tests.factories import DEFAULT_PASSWORD, make_member

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn import lockout

WRONG = "wrong password, definitely"


@pytest.fixture
def fresh_limits():
    """Fresh counters in the configured storage (memory, or Redis in the Redis run); the `clock`
    fixture moves the time both storages' moving windows read."""
    lockout.lockout_reset()
    yield
    lockout.lockout_reset()


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused_until_it_passes(
    client, alice, fresh_limits, clock
):
    for _ in range(5):
        assert login(client, "alice@example.test", WRONG).status_code == 401
    locked = login(client, "alice@example.test", DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert 895 <= int(locked["Retry-After"]) <= 900
    assert locked.json()["code"] == "too_many_attempts"
    assert AuditEvent.objects.filter(type=AuditEventType.ACCOUNT_LOCKED).count() == 1
    clock.advance(14 * 60)
    still = login(client, "alice@example.test", DEFAULT_PASSWORD)
    assert still.status_code == 429
    assert 55 <= int(still["Retry-After"]) <= 60
    clock.advance(61)
    assert login(client, "alice@example.test", DEFAULT_PASSWORD).status_code == 200


def test_a_success_resets_the_account_counter(client, alice, fresh_limits):
    for _ in range(4):
        login(client, "alice@example.test", WRONG)
    assert login(client, "alice@example.test").status_code == 200
    for _ in range(4):
        assert login(client, "alice@example.test", WRONG).status_code == 401
    assert login(client, "alice@example.test").status_code == 200


def test_unknown_emails_are_counted_and_locked_like_real_ones(client, db, fresh_limits):
    for _ in range(5):
        assert login(client, "ghost@example.test", WRONG).status_code == 401
    r = login(client, "GHOST@example.test", WRONG)  # the normalised email is what counts
    assert r.status_code == 429 and r["Retry-After"]


def test_the_tenant_sets_threshold_and_duration(client, acme, fresh_limits, clock):
    acme.settings["lockout"] = {"max_failures": 2, "lockout_minutes": 1}
    acme.save()
    make_member(acme, "bob@example.test")
    for _ in range(2):
        assert login(client, "bob@example.test", WRONG, tenant="acme").status_code == 401
    r = login(client, "bob@example.test", tenant="acme")
    assert r.status_code == 429 and int(r["Retry-After"]) <= 60
    clock.advance(61)
    assert login(client, "bob@example.test", tenant="acme").status_code == 200


def test_twenty_failures_from_one_ip_block_it_across_accounts(client, alice, fresh_limits):
    for i in range(20):
        assert login(client, f"user{i}@example.test", WRONG).status_code == 401
    r = login(client, "alice@example.test")  # a right password, another account: still blocked
    assert r.status_code == 429
    assert 1790 <= int(r["Retry-After"]) <= 1800
    other_ip = login(client, "alice@example.test", ip="10.9.8.7")
    assert other_ip.status_code == 200


def test_ip_limits_come_from_settings(client, alice, fresh_limits, settings):
    settings.RATE_LIMIT_IP_FAILURES = "2/minute"
    settings.IP_BLOCK_SECONDS = 120
    for i in range(2):
        login(client, f"user{i}@example.test", WRONG)
    r = login(client, "alice@example.test")
    assert r.status_code == 429 and int(r["Retry-After"]) <= 120


def test_successful_logins_are_not_limited_per_ip(client, alice, fresh_limits):
    for _ in range(30):
        assert login(client, "alice@example.test").status_code == 200


def test_guessing_the_current_password_with_a_stolen_token_hits_the_lockout(
    client, tokens, fresh_limits
):
    body = {"current_password": WRONG, "new_password": "a brand new passphrase"}
    for _ in range(5):
        r = post(client, "/api/v1/auth/password/change", body, token=tokens["access_token"])
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "current_password"
    r = post(client, "/api/v1/auth/password/change", body, token=tokens["access_token"])
    assert r.status_code == 429


@pytest.mark.redis
def test_lockout_counters_live_in_redis(client, alice, settings):
    assert settings.REDIS_URL
    assert lockout.storage_uri().startswith("redis")
    for _ in range(5):
        assert login(client, "alice@example.test", WRONG).status_code == 401
    lockout._limiter = None  # another process: a fresh limiter sees the same counters
    r = login(client, "alice@example.test")
    assert r.status_code == 429 and 895 <= int(r["Retry-After"]) <= 900
    import redis

    keys = redis.Redis.from_url(settings.REDIS_URL).keys("*limits*")
    assert any(b"authn/" in k for k in keys)  # (API request budgets share the storage)
    assert not any(b"alice" in k for k in keys)  # emails appear only as digests


def test_a_password_reset_lifts_the_lock(client, alice, fresh_limits):
    from django.core import mail

    for _ in range(5):
        login(client, "alice@example.test", WRONG, tenant="acme")
    assert login(client, "alice@example.test", tenant="acme").status_code == 429
    post(client, "/api/v1/auth/password/reset", {"email": "alice@example.test"})
    token = mail.outbox[0].body.split("token=")[1].split()[0]
    body = {"token": token, "new_password": "a brand new passphrase"}
    assert post(client, "/api/v1/auth/password/reset/confirm", body).status_code == 204
    ok = login(client, "alice@example.test", "a brand new passphrase", tenant="acme")
    assert ok.status_code == 200
