"""POST /api/v1/auth/login: answers, enumeration safety, tenants, forced change, cookies."""

from __future__ import annotations

import statistics
import time

import pytest
from django.test import Client
from tests.authn.conftest import ME, bearer, login, me, post, without_request_id
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant, make_user

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.lockout import lockout_reset
from tessera.authn.sessions import sessions_revoke_for_user
from tessera.identity.services import user_password_set
from tessera.tenancy.services import membership_set_status


def test_login_with_a_tenant_answers_the_contract(client, alice):
    r = login(client, "Alice@Example.test", tenant="acme")
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"].count(".") == 2
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url
    assert body["user"]["id"] == str(alice.user_id)
    assert body["user"]["email"] == "alice@example.test"
    assert {"first_name", "last_name"} <= set(body["user"])
    assert body["tenant"] == {"id": str(alice.tenant_id), "slug": "acme", "name": "Acme"}
    assert body["memberships"] == [{"tenant": body["tenant"], "roles": ["member"]}]
    assert body["session_id"]
    assert body["password_change_required"] is False
    assert "password" not in r.content.decode().lower().replace("password_change_required", "")
    assert me(client, body["access_token"]).status_code == 200


def test_without_a_tenant_the_only_membership_is_used(client, alice):
    body = login(client, "alice@example.test").json()
    assert body["tenant"]["slug"] == "acme"
    answer = me(client, body["access_token"]).json()
    assert answer["tenant"]["slug"] == "acme"
    assert answer["roles"] == ["member"]
    assert "user:read" in answer["permissions"] or answer["permissions"]


def test_with_several_memberships_and_no_tenant_the_tokens_have_no_tenant(client, alice):
    globex = make_tenant("globex")
    make_member(globex, user=alice.user, roles=["admin"])
    body = login(client, "alice@example.test").json()
    assert body["tenant"] is None
    assert [m["tenant"]["slug"] for m in body["memberships"]] == ["acme", "globex"]
    assert body["memberships"][1]["roles"] == ["admin"]
    answer = me(client, body["access_token"]).json()
    assert answer["tenant"] is None and answer["membership"] is None
    assert answer["roles"] == [] and answer["permissions"] == []


def test_valid_credentials_for_a_tenant_one_is_not_a_member_of_is_403(client, alice):
    make_tenant("globex")
    r = login(client, "alice@example.test", tenant="globex")
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    unknown = login(client, "alice@example.test", tenant="no-such-tenant")
    assert unknown.status_code == 403
    assert unknown.json()["detail"] == r.json()["detail"]
    # a wrong password for that tenant is still 401: the tenant check comes after the password
    assert login(client, "alice@example.test", "nope", tenant="globex").status_code == 401


def test_a_suspended_membership_cannot_log_in_to_its_tenant(client, alice):
    membership_set_status(membership=alice, status="suspended")
    assert login(client, "alice@example.test", tenant="acme").status_code == 403
    body = login(client, "alice@example.test").json()
    assert body["tenant"] is None and body["memberships"] == []


def _failures(client, emails, password="wrong password, definitely"):
    return [login(client, email, password) for email in emails]


def test_every_kind_of_bad_credentials_gets_the_same_401(client, alice):
    make_user("inactive@example.test", is_active=False)
    make_user("nopassword@example.test", password=None)
    make_user("robot@example.test", is_service_account=True)
    answers = [
        login(client, "alice@example.test", "wrong password, definitely"),
        login(client, "nobody@example.test"),
        login(client, "inactive@example.test"),
        login(client, "nopassword@example.test", ""),
        login(client, "robot@example.test"),
        login(client, "not-an-email"),
    ]
    assert {r.status_code for r in answers} == {401}
    bodies = [without_request_id(r.json()) for r in answers]
    assert all(b == bodies[0] for b in bodies), bodies
    assert bodies[0]["code"] == "invalid_credentials"
    assert all(r["WWW-Authenticate"] for r in answers)


def test_locked_and_unknown_accounts_get_the_same_429(client, alice):
    make_user("inactive@example.test", is_active=False)
    make_user("nopassword@example.test", password=None)
    answers = []
    for email in (
        "alice@example.test",
        "nobody@example.test",
        "inactive@example.test",
        "nopassword@example.test",
    ):
        _failures(client, [email] * 5)
        answers.append(login(client, email, DEFAULT_PASSWORD))
        lockout_reset()  # the per-IP counter must not be what blocks the next account
    assert {r.status_code for r in answers} == {429}
    bodies = [without_request_id(r.json()) for r in answers]
    assert all(b == bodies[0] for b in bodies)
    assert all(900 - 5 <= int(r["Retry-After"]) <= 900 for r in answers)


def test_unknown_inactive_and_passwordless_take_comparable_time(client, alice):
    make_user("inactive@example.test", is_active=False)
    make_user("nopassword@example.test", password=None)
    cases = {
        "wrong": ("alice@example.test", "wrong password, definitely"),
        "unknown": ("nobody@example.test", "wrong password, definitely"),
        "inactive": ("inactive@example.test", DEFAULT_PASSWORD),
        "passwordless": ("nopassword@example.test", "wrong password, definitely"),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _round in range(9):
        for name, (email, password) in cases.items():
            lockout_reset()
            started = time.perf_counter()
            r = login(client, email, password)
            samples[name].append(time.perf_counter() - started)
            assert r.status_code == 401
    medians = {name: statistics.median(values) for name, values in samples.items()}
    assert max(medians.values()) / min(medians.values()) < 3, medians


def test_failed_and_successful_logins_are_audited_without_secrets(client, alice):
    login(client, "alice@example.test", "wrong password, definitely")
    login(client, "alice@example.test", tenant="acme")
    failed = AuditEvent.objects.get(type=AuditEventType.LOGIN_FAILED)
    assert failed.resource_id == str(alice.user_id)
    ok = AuditEvent.objects.get(type=AuditEventType.LOGIN)
    assert str(ok.tenant_id) == str(alice.tenant_id)
    assert str(ok.actor_user_id) == str(alice.user_id)
    for event in AuditEvent.objects.all():
        text = str(event.changes)
        assert DEFAULT_PASSWORD not in text and "wrong password" not in text


def test_no_secret_reaches_the_logs(client, alice, caplog):
    caplog.set_level("DEBUG")
    body = login(client, "alice@example.test", tenant="acme").json()
    login(client, "alice@example.test", "wrong password, definitely")
    post(client, "/api/v1/auth/refresh", {"refresh_token": body["refresh_token"]})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (DEFAULT_PASSWORD, "wrong password, definitely", body["refresh_token"]):
        assert secret not in logged


def test_a_password_set_by_an_administrator_must_be_changed_first(client, alice):
    user_password_set(user=alice.user, password="an admin chose this one", must_change=True)
    body = login(client, "alice@example.test", "an admin chose this one", tenant="acme").json()
    assert body["password_change_required"] is True
    token = body["access_token"]
    assert me(client, token).status_code == 200
    r = client.get("/api/v1/auth/sessions", headers=bearer(token))
    assert r.status_code == 403 and r.json()["code"] == "password_change_required"
    r = post(
        client,
        "/api/v1/auth/password/change",
        {"current_password": "an admin chose this one", "new_password": "my own long passphrase"},
        token=token,
    )
    assert r.status_code == 204, r.content
    assert client.get("/api/v1/auth/sessions", headers=bearer(token)).status_code == 200
    assert me(client, token).json()["password_change_required"] is False


def test_an_expired_password_only_allows_a_change(client, acme, alice):
    acme.settings["password"]["max_age_days"] = 90
    acme.save()
    alice.user.password_changed_at = alice.user.created_at.replace(year=2000)
    alice.user.save()
    body = login(client, "alice@example.test", tenant="acme").json()
    assert body["password_change_required"] is True
    r = post(client, "/api/v1/auth/switch-tenant", {"tenant": "acme"}, token=body["access_token"])
    assert r.status_code == 403
    assert post(client, "/api/v1/auth/logout", token=body["access_token"]).status_code == 204


def test_the_cookie_mode_sets_an_httponly_lax_cookie_and_needs_csrf(alice, settings):
    browser = Client(enforce_csrf_checks=True)
    r = login(browser, "alice@example.test", tenant="acme", cookie=True)
    assert r.status_code == 200
    cookie = r.cookies["tessera_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # TESSERA_SECURE_COOKIES is off in tests, on in production
    assert str(r.json()["session_id"]) not in cookie.value.split(":")[-1]
    assert browser.get(ME).status_code == 200  # safe method: the cookie is enough
    # unsafe method without the CSRF header → 403
    r = browser.post("/api/v1/auth/logout", {}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    csrf = browser.cookies["csrftoken"].value
    r = browser.post(
        "/api/v1/auth/logout", {}, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert r.status_code == 204
    assert browser.get(ME).status_code == 401


def test_a_forged_cookie_is_refused(client, alice):
    client.cookies["tessera_session"] = "00000000-0000-0000-0000-000000000000:x::"
    assert client.get(ME).status_code == 401


@pytest.mark.parametrize("value", ["Basic abc", "Bearer", "Bearer not.a.jwt", "Token x"])
def test_a_malformed_authorization_header_is_401(client, db, value):
    r = client.get(ME, headers={"Authorization": value})
    assert r.status_code == 401
    assert r["Content-Type"] == "application/problem+json"


def test_no_credentials_is_401(client, db):
    assert client.get(ME).status_code == 401


def test_a_dead_session_cookie_is_cleared_and_ignored_outside_the_api(alice):
    browser = Client()
    assert login(browser, "alice@example.test", tenant="acme", cookie=True).status_code == 200
    sessions_revoke_for_user(user=alice.user, reason="revoked elsewhere")
    r = browser.get(ME)
    assert r.status_code == 401
    assert r.cookies["tessera_session"].value == ""  # the client is told to forget it
    browser.cookies["tessera_session"] = "stale"
    assert browser.get("/healthz").status_code == 200  # outside /api/ the cookie is not read


def test_a_browser_with_a_live_cookie_can_still_log_in_without_csrf(alice):
    browser = Client(enforce_csrf_checks=True)
    login(browser, "alice@example.test", tenant="acme", cookie=True)
    again = login(browser, "alice@example.test", tenant="acme", cookie=True)
    assert again.status_code == 200
    assert browser.get(ME).json()["session_id"] == again.json()["session_id"]
