"""Issue 12, attacks 3, 4, 5, 6 and three of 9: every door into a tenant is as strong as the
strongest (docs/decisions/0009-one-tenant-per-session.md). Each `test_attack_*` failed on the
code before this change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from tests.authn.conftest import bearer, login, post
from tests.authn.mfa.conftest import CONFIRM, DISABLE, SETUP, VERIFY, code_now
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant, make_user

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.audit.services import PLATFORM_CHAIN
from tessera.authn import deferred, lockout
from tessera.authn.models import AuthMethod, PasswordResetToken, Session
from tessera.identity import mfa as factors
from tessera.identity.models import BackupCode

WRONG = "wrong password, definitely"
ADMIN_LOGIN = "/admin/login/"
ADMIN_MFA = "/admin/login/mfa/"


@pytest.fixture(autouse=True)
def fresh_limits():
    lockout.lockout_reset()
    yield
    lockout.lockout_reset()


@pytest.fixture
def two_tenants(db):
    """acme requires MFA of everyone and forbids trusted devices; globex requires nothing."""
    acme = make_tenant("acme", mfa={"required": "all", "allow_trusted_devices": False})
    globex = make_tenant("globex")
    return acme, globex


@pytest.fixture
def dana(two_tenants):
    """An administrator of both tenants, without MFA."""
    acme, globex = two_tenants
    member = make_member(acme, "dana@example.test", roles=["admin"])
    make_member(globex, user=member.user, roles=["admin"])
    return member.user


def enrol_mfa(client, token) -> str:
    secret = post(client, SETUP, token=token).json()["secret"]
    assert post(client, CONFIRM, {"code": code_now(secret, -1)}, token=token).status_code == 200
    return secret  # the codes after it: code_now(secret, 0), then code_now(secret, 1)


# --- attack 3: a tenant-less session acting in an MFA tenant ------------------------------------


def test_attack_tenantless_session_cannot_act_in_an_mfa_tenant_through_x_tenant(client, dana):
    r = login(client, "dana@example.test")  # no tenant: two memberships, a tenant-less session
    assert r.status_code == 200 and r.json()["tenant"] is None
    headers = {**bearer(r.json()["access_token"]), "X-Tenant": "acme"}
    users = client.get("/api/v1/users", headers=headers)
    assert users.status_code == 403 and users.json()["code"] == "tenant_not_bound"
    patch = client.patch(
        "/api/v1/tenant",
        {"settings": {"mfa": {"required": "off"}}},
        content_type="application/json",
        headers=headers,
    )
    assert patch.status_code == 403
    # the way in is switch-tenant, which runs acme's policy: no factor yet → setup only
    switched = post(
        client, "/api/v1/auth/switch-tenant", {"tenant": "acme"}, r.json()["access_token"]
    )
    assert switched.status_code == 200 and switched.json()["mfa_setup_required"] is True
    limited = client.get("/api/v1/users", headers=bearer(switched.json()["access_token"]))
    assert limited.status_code == 403 and limited.json()["code"] == "mfa_setup_required"


def test_login_without_tenant_takes_the_tenant_from_x_tenant(client, dana):
    r = client.post(
        "/api/v1/auth/login",
        {"email": "dana@example.test", "password": DEFAULT_PASSWORD},
        content_type="application/json",
        headers={"X-Tenant": "acme"},
    )
    assert r.status_code == 200
    assert r.json()["tenant"]["slug"] == "acme" and r.json()["mfa_setup_required"] is True


def test_attack_tenantless_session_cannot_skip_a_ban_on_trusted_devices(client, dana):
    globex_login = login(client, "dana@example.test", tenant="globex").json()
    secret = enrol_mfa(client, globex_login["access_token"])
    challenge = login(client, "dana@example.test", tenant="globex").json()
    done = post(
        client,
        VERIFY,
        {"mfa_token": challenge["mfa_token"], "code": code_now(secret, 0), "trust_device": True},
    ).json()
    device = done["device_token"]
    # the device skips the code for a tenant-less login (globex allows devices) ...
    tenantless = login(client, "dana@example.test", device_token=device).json()
    assert tenantless["tenant"] is None and "access_token" in tenantless
    token = tenantless["access_token"]
    # ... but that session reaches acme neither by header nor by a plain switch
    r = client.get("/api/v1/users", headers={**bearer(token), "X-Tenant": "acme"})
    assert r.status_code == 403
    switched = post(client, "/api/v1/auth/switch-tenant", {"tenant": "acme"}, token).json()
    assert switched == {"mfa_required": True, "mfa_token": switched["mfa_token"]}
    # and logging in to acme with the device asks for the code too
    assert login(client, "dana@example.test", tenant="acme", device_token=device).json()[
        "mfa_required"
    ]
    # the code finishes the switch's challenge: a session in acme
    finished = post(
        client, VERIFY, {"mfa_token": switched["mfa_token"], "code": code_now(secret, 1)}
    )
    assert finished.status_code == 200, finished.content
    assert finished.json()["tenant"]["slug"] == "acme"
    acme_token = finished.json()["access_token"]
    assert client.get("/api/v1/users", headers=bearer(acme_token)).status_code == 200


def test_refresh_ends_a_session_whose_tenant_now_forbids_its_trusted_device(client, two_tenants):
    _acme, globex = two_tenants
    user = make_member(globex, "erin@example.test", roles=["member"]).user
    first = login(client, user.email).json()
    secret = enrol_mfa(client, first["access_token"])
    challenge = login(client, user.email).json()
    device = post(
        client,
        VERIFY,
        {"mfa_token": challenge["mfa_token"], "code": code_now(secret, 0), "trust_device": True},
    ).json()["device_token"]
    by_device = login(client, user.email, device_token=device).json()
    globex.settings = {"mfa": {"allow_trusted_devices": False}}
    globex.save()
    r = post(client, "/api/v1/auth/refresh", {"refresh_token": by_device["refresh_token"]})
    assert r.status_code == 401
    assert Session.objects.get(pk=by_device["session_id"]).revoked_reason == "tenant_policy"


# --- attack 4: the admin site ---------------------------------------------------------------------


@pytest.fixture
def root(db):
    return make_user("root@platform.test", is_platform_admin=True)


def admin_login(client, email="root@platform.test", password=DEFAULT_PASSWORD, **extra):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, **extra})


def test_attack_admin_login_locks_out_like_the_api(client, root):
    for _ in range(5):
        assert admin_login(client, password=WRONG).status_code == 401
    locked = admin_login(client)  # the right password, while locked
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(type=AuditEventType.LOGIN_FAILED, chain=PLATFORM_CHAIN)
    assert failed.count() == 5
    assert AuditEvent.objects.filter(type=AuditEventType.ACCOUNT_LOCKED).count() == 1
    # and the API's login shares the lock
    assert login(client, "root@platform.test").status_code == 429


def test_attack_admin_login_asks_a_platform_admin_with_totp_for_the_code(client, root):
    token = login(client, "root@platform.test").json()["access_token"]
    secret = enrol_mfa(client, token)
    r = admin_login(client)
    assert r.status_code == 302 and r["Location"] == ADMIN_MFA
    assert client.get("/admin/").status_code == 302  # not signed in yet
    assert client.post(ADMIN_MFA, {"code": "000000"}).status_code == 401
    done = client.post(ADMIN_MFA, {"code": code_now(secret, 0)})
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200
    session = Session.objects.get(user=root, auth_method=AuthMethod.ADMIN)
    assert session.mfa_verified_at is not None and session.tenant_id is None
    event = AuditEvent.objects.filter(type=AuditEventType.LOGIN, resource_id=str(session.pk)).get()
    assert event.changes["door"] == "admin" and event.changes["mfa"] == "totp"


def test_attack_admin_session_has_the_platform_limits_and_can_be_revoked(client, root, settings):
    assert admin_login(client).status_code == 302
    assert client.get("/admin/").status_code == 200
    session = Session.objects.get(user=root, auth_method=AuthMethod.ADMIN)
    assert session.idle_seconds == settings.ADMIN_SESSION_IDLE_MINUTES * 60
    lifetime = session.absolute_expires_at - session.created_at
    assert lifetime <= timedelta(minutes=settings.ADMIN_SESSION_LIFETIME_MINUTES, seconds=1)
    # idle past the limit: signed out
    Session.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/admin/").status_code == 302
    # a new sign-in, then revoked (by its owner, an administrator, ...): signed out at once
    assert admin_login(client).status_code == 302
    second = Session.objects.filter(user=root).latest("created_at")
    assert second.pk != session.pk
    assert client.get("/admin/").status_code == 200
    Session.objects.filter(pk=second.pk).update(revoked_at=timezone.now())
    assert client.get("/admin/").status_code == 302


def test_admin_logout_ends_the_tessera_session(client, root):
    assert admin_login(client).status_code == 302
    session = Session.objects.get(user=root, auth_method=AuthMethod.ADMIN)
    client.post("/admin/logout/")
    assert Session.objects.get(pk=session.pk).revoked_at is not None
    assert AuditEvent.objects.filter(type=AuditEventType.LOGOUT).count() == 1


def test_attack_admin_session_does_not_authenticate_the_api(client, root, two_tenants):
    acme, _globex = two_tenants
    make_member(acme, user=root, roles=["admin"])
    assert admin_login(client).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/api/v1/users", headers={"X-Tenant": "acme"}).status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/tenants").status_code == 401
    body = json.dumps({"email": "new@example.test"})
    for content_type in ("text/plain", "application/json"):
        r = client.post(
            "/api/v1/users", body, content_type=content_type, headers={"X-Tenant": "acme"}
        )
        assert r.status_code in (401, 415), r.content
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    r = csrf_client.post(
        "/api/v1/users", body, content_type="text/plain", headers={"X-Tenant": "acme"}
    )
    assert r.status_code in (401, 415)
    assert not Session.objects.filter(user=root).exclude(auth_method=AuthMethod.ADMIN).exists()


def test_only_platform_admins_pass_the_admin_door(client, dana):
    r = admin_login(client, "dana@example.test")  # the right password, not a platform admin
    assert r.status_code == 401 and "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(type=AuditEventType.LOGIN_FAILED)
    assert event.chain == PLATFORM_CHAIN and event.changes["reason"] == "not_platform_admin"


def test_platform_admins_need_a_second_factor_when_the_platform_requires_it(client, root, settings):
    settings.ADMIN_REQUIRE_MFA = True
    r = admin_login(client)
    assert r.status_code == 403
    assert b"must have a second factor" in r.content
    assert "_auth_user_id" not in client.session
    assert not Session.objects.filter(user=root).exists()


# --- attack 5: the lockout counter is the account's ----------------------------------------------


def test_attack_lock_holds_whatever_tenant_is_named(client, dana):
    for _ in range(5):
        assert login(client, "dana@example.test", WRONG, tenant="globex").status_code == 401
    assert login(client, "dana@example.test", WRONG, tenant="acme").status_code == 429
    assert login(client, "dana@example.test", WRONG, tenant="nope").status_code == 429
    right = login(client, "dana@example.test", tenant="globex")
    assert right.status_code == 429
    assert login(client, "dana@example.test", tenant="acme").status_code == 429
    assert login(client, "dana@example.test").status_code == 429


def test_the_strictest_lockout_policy_of_active_memberships_applies(client, dana, two_tenants):
    acme, _globex = two_tenants
    acme.settings = {**acme.settings, "lockout": {"max_failures": 2, "lockout_minutes": 60}}
    acme.save()
    for _ in range(2):  # naming globex (5 allowed there): acme's stricter rule still counts
        assert login(client, "dana@example.test", WRONG, tenant="globex").status_code == 401
    r = login(client, "dana@example.test", tenant="globex")
    assert r.status_code == 429 and 3500 <= int(r["Retry-After"]) <= 3600


# --- attack 6: nothing to enumerate -----------------------------------------------------------


def test_attack_failed_logins_of_strangers_stay_out_of_the_named_tenants_trail(client, two_tenants):
    acme, globex = two_tenants
    stranger = make_member(globex, "sam@example.test").user
    inactive = make_user("ina@example.test")
    inactive.is_active = False
    inactive.save()
    assert login(client, "sam@example.test", WRONG, tenant="acme").status_code == 401
    assert login(client, "sam@example.test", tenant="acme").status_code == 403
    assert login(client, "ina@example.test", tenant="acme").status_code == 401
    assert login(client, "ghost@example.test", tenant="acme").status_code == 401
    in_acme = AuditEvent.objects.filter(chain=str(acme.pk))
    assert not in_acme.filter(type=AuditEventType.LOGIN_FAILED).exists()
    assert not in_acme.filter(resource_id__in=[str(stranger.pk), str(inactive.pk)]).exists()
    platform = AuditEvent.objects.filter(chain=PLATFORM_CHAIN, type=AuditEventType.LOGIN_FAILED)
    assert platform.count() == 4
    # a member's own failures stay in their tenant's trail
    make_member(acme, user=stranger)
    assert login(client, "sam@example.test", WRONG, tenant="acme").status_code == 401
    assert in_acme.filter(type=AuditEventType.LOGIN_FAILED, resource_id=str(stranger.pk)).exists()


def test_attack_password_reset_does_the_same_work_for_known_and_unknown_emails(
    client, dana, monkeypatch
):
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    held: list = []
    monkeypatch.setattr(
        deferred,
        "deferred_attach",
        lambda request, response: held.extend(request.__dict__.pop("_tessera_deferred", [])),
    )
    answers = []
    for email in ("dana@example.test", "nobody@example.test"):
        with CaptureQueriesContext(connection) as queries:
            r = post(client, "/api/v1/auth/password/reset", {"email": email})
        answers.append((r.status_code, r.content, len(queries)))
    assert answers[0] == answers[1]  # same status, same bytes, same database work
    assert answers[0][2] == 0 and not mail.outbox and not PasswordResetToken.objects.exists()
    for job in held:  # after the answers: the lookup, the token, the mail
        job()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dana@example.test"]
    assert PasswordResetToken.objects.count() == 1


def test_deferred_work_runs_after_the_response_and_its_errors_stay_quiet(client, dana):
    from django.core import mail

    r = post(client, "/api/v1/auth/password/reset", {"email": "dana@example.test"})
    assert r.status_code == 202 and len(mail.outbox) == 1  # the test client closes the response

    calls = []
    deferred.defer(None, calls.append, "at once")  # no request: runs now
    assert calls == ["at once"]

    class Request:
        pass

    class Response:
        _resource_closers: list = []

    request, response = Request(), Response()
    deferred.defer(request, lambda: 1 / 0)
    deferred.defer(request, calls.append, "later")
    deferred.deferred_attach(request, response)
    assert calls == ["at once"]
    for closer in response._resource_closers:
        closer()  # the failing one logs; the next one still runs
    assert calls == ["at once", "later"]


# --- point 9: failed authentications, backup codes, MFA changes and other sessions -------------


def test_attack_a_flood_of_bad_credentials_is_throttled(client, dana, settings):
    settings.RATE_LIMIT_AUTH_FAILURES = "5/minute"
    good = login(client, "dana@example.test", tenant="globex").json()["access_token"]
    for i in range(5):
        assert client.get("/api/v1/auth/me", headers=bearer(f"forged.{i}.x")).status_code == 401
    r = client.get("/api/v1/auth/me", headers=bearer("forged.6.x"))
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    r = client.get("/api/v1/users", headers={"X-API-Key": "tsk_guessed_key"})
    assert r.status_code == 429
    r = post(client, "/api/v1/auth/refresh", {"refresh_token": "guessed"})
    assert r.status_code == 429
    # valid credentials from the same address still work
    assert client.get("/api/v1/auth/me", headers=bearer(good)).status_code == 200
    # another address is not affected
    r = client.get("/api/v1/auth/me", headers=bearer("forged"), REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 401


def test_failed_refresh_tokens_count_too(client, db, settings):
    settings.RATE_LIMIT_AUTH_FAILURES = "3/minute"
    for _ in range(3):
        assert post(client, "/api/v1/auth/refresh", {"refresh_token": "x"}).status_code == 401
    assert post(client, "/api/v1/auth/refresh", {"refresh_token": "x"}).status_code == 429


def test_attack_backup_codes_are_a_salted_slow_hash_checked_with_one_hash(
    client, dana, monkeypatch
):
    token = login(client, "dana@example.test", tenant="globex").json()["access_token"]
    secret = post(client, SETUP, token=token).json()["secret"]
    codes = post(client, CONFIRM, {"code": code_now(secret)}, token=token).json()["backup_codes"]
    rows = list(BackupCode.objects.filter(user=dana))
    assert len(rows) == 10 and len({r.salt for r in rows}) == 1 and len(rows[0].salt) == 32
    assert rows[0].params.startswith("t=") and "m=" in rows[0].params
    from tessera.crypto import keyed_digest

    hmac = keyed_digest(
        f"{dana.pk}:{codes[0].replace('-', '')}".encode(),
        purpose=b"tessera/identity/backup-code/v1",
    )
    assert hmac not in {r.code_hash for r in rows}
    hashes = []
    real = factors._backup_digest
    monkeypatch.setattr(
        factors, "_backup_digest", lambda *a, **kw: hashes.append(1) or real(*a, **kw)
    )
    assert factors.mfa_code_verify(user=dana, code=codes[-1]) == "backup"
    assert len(hashes) == 1  # one hash, not one per stored code
    with pytest.raises(factors.MfaCodeInvalid):
        factors.mfa_code_verify(user=dana, code=codes[-1])  # single use


def test_attack_enabling_mfa_ends_the_other_sessions(client, dana):
    other = login(client, "dana@example.test", tenant="acme").json()
    current = login(client, "dana@example.test", tenant="globex").json()
    enrol_mfa(client, current["access_token"])
    assert client.get("/api/v1/auth/me", headers=bearer(other["access_token"])).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(current["access_token"])).status_code == 200
    assert Session.objects.get(pk=other["session_id"]).revoked_reason == "mfa_enabled"
    assert AuditEvent.objects.filter(
        type=AuditEventType.SESSION_REVOKED, changes__reason="mfa_enabled"
    ).exists()


def test_attack_disabling_mfa_ends_the_other_sessions(client, dana):
    first = login(client, "dana@example.test", tenant="globex").json()
    secret = enrol_mfa(client, first["access_token"])
    other = post(
        client,
        VERIFY,
        {
            "mfa_token": login(client, "dana@example.test", tenant="globex").json()["mfa_token"],
            "code": code_now(secret, 0),
        },
    ).json()
    r = post(
        client,
        DISABLE,
        {"password": DEFAULT_PASSWORD, "code": code_now(secret, 1)},
        first["access_token"],
    )
    assert r.status_code == 204, r.content
    assert client.get("/api/v1/auth/me", headers=bearer(other["access_token"])).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(first["access_token"])).status_code == 200
    assert Session.objects.get(pk=other["session_id"]).revoked_reason == "mfa_disabled"


def test_platform_admins_who_must_change_their_password_do_it_through_the_api_first(client, root):
    root.must_change_password = True
    root.save()
    r = admin_login(client)
    assert r.status_code == 403 and b"must be changed" in r.content
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(type=AuditEventType.LOGIN_FAILED)
    assert event.changes["reason"] == "password_change_required"


def test_switch_tenant_applies_the_target_tenants_session_limit(client, dana, two_tenants):
    acme, _globex = two_tenants
    acme.settings = {**acme.settings, "mfa": {}, "sessions": {"max_sessions": 2}}
    acme.save()
    sessions = [login(client, "dana@example.test", tenant="globex").json() for _ in range(3)]
    newest = sessions[-1]
    r = post(client, "/api/v1/auth/switch-tenant", {"tenant": "acme"}, newest["access_token"])
    assert r.status_code == 200, r.content
    live = Session.objects.filter(user=dana, revoked_at__isnull=True)
    assert live.count() == 2 and live.filter(pk=newest["session_id"]).exists()
    assert Session.objects.get(pk=sessions[0]["session_id"]).revoked_reason == "session_limit"


def test_attack_email_verification_does_the_same_work_for_known_and_unknown_emails(
    client, dana, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tessera.identity.models import EmailVerificationToken

    held: list = []
    monkeypatch.setattr(
        deferred,
        "deferred_attach",
        lambda request, response: held.extend(request.__dict__.pop("_tessera_deferred", [])),
    )
    answers = []
    for email in ("dana@example.test", "nobody@example.test"):
        with CaptureQueriesContext(connection) as queries:
            r = post(client, "/api/v1/auth/email/verify", {"email": email})
        answers.append((r.status_code, r.content, len(queries)))
    assert answers[0] == answers[1]  # same status, same bytes, same database work
    assert answers[0][2] == 0 and not EmailVerificationToken.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        for job in held:  # after the answers: the lookup, the token, the mail
            job()
    assert EmailVerificationToken.objects.count() == 1
    assert [m.to for m in mail.outbox] == [["dana@example.test"]]


def test_attack_admin_password_change_goes_through_tessera_policy_and_ends_other_sessions(
    client, db
):
    """The admin site's "change password" was Django's own view: no policy, no history, no
    audit, other sessions alive. Now it is Tessera's password change."""
    from tessera.testing import admin_session_login

    root = make_user("root@platform.test", is_platform_admin=True)
    current = admin_session_login(client, root)
    other = admin_session_login(Client(), root)
    url = "/admin/password_change/"
    assert client.get(url).status_code == 200
    weak = client.post(
        url,
        {"old_password": DEFAULT_PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert weak.status_code == 200 and "at least" in weak.content.decode()
    wrong = client.post(
        url,
        {
            "old_password": "not the password",
            "new_password1": "a much longer passphrase 4711",
            "new_password2": "a much longer passphrase 4711",
        },
    )
    assert wrong.status_code == 200 and "not correct" in wrong.content.decode()
    done = client.post(
        url,
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a much longer passphrase 4711",
            "new_password2": "a much longer passphrase 4711",
        },
    )
    assert done.status_code == 302 and done["Location"].endswith("/admin/password_change/done/")
    root.refresh_from_db()
    assert root.check_password("a much longer passphrase 4711")
    other.refresh_from_db()
    current.refresh_from_db()
    assert other.revoked_at is not None and current.revoked_at is None
    assert AuditEvent.objects.filter(
        type=AuditEventType.PASSWORD_CHANGE, resource_id=str(root.pk)
    ).exists()
