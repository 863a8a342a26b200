"""The last four gaps of docs/security/asvs.md: a sign-in ends the session it replaces (V7.2.4),
ending another session needs a recent password (V7.5.2), the session limits are the documented
ones (V7.1.1), and new tenants require MFA where the platform says so (V6.3.3).
Each `test_attack_*` failed on the code before this change."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn import lockout
from tessera.authn.models import AuthMethod, Session
from tessera.tenancy.models import Tenant
from tessera.tenancy.services import tenant_create
from tessera.tenancy.tenant_settings import SessionPolicy
from tests.authn.conftest import bearer, login, me, post
from tests.authn.mfa.conftest import code_now, enrol
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant, make_user
from tests.foundation.test_settings import STRONG, run_settings

SESSIONS = "/api/v1/auth/sessions"
ORIGIN = {"HTTP_ORIGIN": "http://testserver"}
SESSIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "security" / "sessions.md"


@pytest.fixture(autouse=True)
def fresh_limits():
    lockout.lockout_reset()
    yield
    lockout.lockout_reset()


@pytest.fixture
def alice(db):
    return make_member(make_tenant("acme"), "alice@example.test", roles=["member"])


def _replaced_events(session_id) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(type=AuditEventType.SESSION_REVOKED, resource_id=str(session_id))
    )


# --- V7.2.4: a new session on (re-)authentication, and the current one terminated ---------------


def test_attack_a_cookie_login_ends_the_session_the_browser_held(alice):
    browser = Client()
    first = login(browser, "alice@example.test", tenant="acme", cookie=True, **ORIGIN).json()
    second = login(browser, "alice@example.test", tenant="acme", cookie=True, **ORIGIN)
    assert second.status_code == 200
    assert second.json()["session_id"] != first["session_id"]
    old = Session.objects.get(pk=first["session_id"])
    assert old.revoked_at is not None and old.revoked_reason == "reauthenticated"
    [event] = _replaced_events(old.pk)
    assert event.changes == {"reason": "reauthenticated"}
    assert me(Client(), first["access_token"]).status_code == 401  # its tokens die with it
    assert browser.get("/api/v1/auth/me").json()["session_id"] == second.json()["session_id"]


def test_a_cookie_login_after_the_mfa_step_ends_the_session_the_browser_held(alice):
    browser = Client()
    first = login(browser, "alice@example.test", tenant="acme", cookie=True, **ORIGIN).json()
    secret = enrol(browser, first["access_token"]).secret
    pending = login(browser, "alice@example.test", tenant="acme", cookie=True, **ORIGIN).json()
    assert pending["mfa_required"] is True
    assert Session.objects.get(pk=first["session_id"]).revoked_at is None  # not signed in yet
    done = post(
        browser,
        "/api/v1/auth/mfa/verify",
        {"mfa_token": pending["mfa_token"], "code": code_now(secret, 1), "cookie": True},
        **ORIGIN,
    )
    assert done.status_code == 200, done.content
    assert Session.objects.get(pk=first["session_id"]).revoked_reason == "reauthenticated"


def test_a_failed_login_or_a_forged_cookie_ends_nothing(alice):
    browser = Client()
    first = login(browser, "alice@example.test", tenant="acme", cookie=True, **ORIGIN).json()
    wrong = login(browser, "alice@example.test", "not the password", tenant="acme", **ORIGIN)
    assert wrong.status_code == 401
    assert me(browser, first["access_token"]).status_code == 200
    forged = Client()
    forged.cookies["tessera_session"] = f"{first['session_id']}:x:y:z:forged"
    assert login(forged, "alice@example.test", tenant="acme", cookie=True).status_code == 200
    assert me(browser, first["access_token"]).status_code == 200
    # a bearer login (no cookie set) leaves the browser's cookie session alone
    assert login(browser, "alice@example.test", tenant="acme").status_code == 200
    assert me(browser, first["access_token"]).status_code == 200


def test_attack_an_admin_sign_in_ends_the_admin_session_the_browser_held(client, db):
    root = make_user("root@platform.test", is_platform_admin=True)
    form = {"username": "root@platform.test", "password": DEFAULT_PASSWORD}
    assert client.post("/admin/login/", form).status_code == 302
    first = Session.objects.get(user=root, auth_method=AuthMethod.ADMIN)
    assert client.post("/admin/login/", form).status_code == 302
    second = Session.objects.filter(user=root).latest("created_at")
    assert second.pk != first.pk and second.revoked_at is None
    first.refresh_from_db()
    assert first.revoked_at is not None and first.revoked_reason == "reauthenticated"
    assert len(_replaced_events(first.pk)) == 1
    assert client.get("/admin/").status_code == 200  # signed in with the new one


# --- V7.5.2: ending other sessions needs a recent authentication --------------------------------


def _stale(session_id) -> None:
    Session.objects.filter(pk=session_id).update(
        password_verified_at=timezone.now() - timedelta(minutes=11)
    )


def test_attack_a_stolen_session_cannot_end_the_owners_other_sessions(client, alice):
    owner = login(client, "alice@example.test", tenant="acme").json()
    thief = login(client, "alice@example.test", tenant="acme").json()
    _stale(thief["session_id"])
    r = client.delete(f"{SESSIONS}/{owner['session_id']}", headers=bearer(thief["access_token"]))
    assert r.status_code == 403 and r.json()["code"] == "reauthentication_required"
    assert "POST /api/v1/auth/login" in r.json()["detail"]
    assert me(client, owner["access_token"]).status_code == 200
    assert Session.objects.get(pk=owner["session_id"]).revoked_at is None


def test_a_recent_sign_in_ends_another_session_and_the_current_one_needs_none(client, alice):
    other = login(client, "alice@example.test", tenant="acme").json()
    current = login(client, "alice@example.test", tenant="acme").json()
    r = client.delete(f"{SESSIONS}/{other['session_id']}", headers=bearer(current["access_token"]))
    assert r.status_code == 204  # password entered just now
    assert me(client, other["access_token"]).status_code == 401
    _stale(current["session_id"])
    own = client.delete(
        f"{SESSIONS}/{current['session_id']}", headers=bearer(current["access_token"])
    )
    assert own.status_code == 204
    assert me(client, current["access_token"]).status_code == 401


def test_logout_all_needs_no_fresh_password_after_a_device_is_stolen(client, alice):
    stolen = login(client, "alice@example.test", tenant="acme").json()
    kept = login(client, "alice@example.test", tenant="acme").json()
    _stale(kept["session_id"])
    r = post(client, "/api/v1/auth/logout", {"all": True}, token=kept["access_token"])
    assert r.status_code == 204
    assert me(client, stolen["access_token"]).status_code == 401
    assert me(client, kept["access_token"]).status_code == 401


# --- V7.1.1: the documented limits are the code's ------------------------------------------------


def test_the_documented_session_limits_are_the_codes_defaults():
    text = SESSIONS_DOC.read_text()

    def documented(name: str) -> int:
        match = re.search(rf"^\| `{name}` \| (\d+)\b", text, re.M)
        assert match, name
        return int(match.group(1))

    policy = SessionPolicy()
    assert documented("max_sessions") == policy.max_sessions
    assert documented("idle_timeout_minutes") == policy.idle_timeout_minutes
    assert documented("absolute_lifetime_minutes") == policy.absolute_lifetime_minutes
    assert documented("TESSERA_ADMIN_SESSION_IDLE_MINUTES") == (
        django_settings.ADMIN_SESSION_IDLE_MINUTES
    )
    assert documented("TESSERA_ADMIN_SESSION_LIFETIME_MINUTES") == (
        django_settings.ADMIN_SESSION_LIFETIME_MINUTES
    )
    assert documented("TESSERA_ACCESS_TOKEN_TTL") == django_settings.ACCESS_TOKEN_TTL
    # AAL2 within the allowed range: a tenant can choose SP 800-63B-4's one hour idle, 24 h overall
    assert SessionPolicy(idle_timeout_minutes=60, absolute_lifetime_minutes=24 * 60)


# --- V6.3.3: MFA required for access ---------------------------------------------------------


def test_attack_a_new_tenant_on_a_production_platform_requires_mfa(client, db, settings):
    settings.NEW_TENANTS_REQUIRE_MFA = True
    tenant = tenant_create(slug="fresh", name="Fresh")
    assert tenant.settings["mfa"]["required"] == "all"
    make_member(tenant, "new@example.test", roles=["admin"])
    r = login(client, "new@example.test", tenant="fresh")
    assert r.status_code == 200 and r.json()["mfa_setup_required"] is True
    users = client.get("/api/v1/users", headers=bearer(r.json()["access_token"]))
    assert users.status_code == 403 and users.json()["code"] == "mfa_setup_required"


def test_a_tenants_creator_may_still_choose_its_mfa_policy(db, settings):
    settings.NEW_TENANTS_REQUIRE_MFA = True
    off = tenant_create(slug="chosen", name="Chosen", settings={"mfa": {"required": "off"}})
    assert off.settings["mfa"]["required"] == "off"
    partial = tenant_create(
        slug="partial", name="Partial", settings={"mfa": {"allow_trusted_devices": False}}
    )
    assert partial.settings["mfa"] == {
        "required": "all",
        "required_roles": [],
        "allow_trusted_devices": False,
    }
    settings.NEW_TENANTS_REQUIRE_MFA = False
    assert tenant_create(slug="dev", name="Dev").settings["mfa"]["required"] == "off"
    assert Tenant.objects.count() == 3


@pytest.mark.parametrize(("env", "expected"), [("production", "True"), ("development", "False")])
def test_the_platform_requires_mfa_of_new_tenants_by_default_only_in_production(env, expected):
    probe = "import tessera.settings as s; print(s.NEW_TENANTS_REQUIRE_MFA)"
    done = run_settings(
        {
            "TESSERA_ENV": env,
            "TESSERA_SECRET_KEY": STRONG,
            "TESSERA_ALLOWED_HOSTS": "iam.test",
            "TESSERA_EMAIL_URL": "smtp+tls://mailer:s3cret@smtp.example.com:587",
        },
        "-c",
        probe,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
