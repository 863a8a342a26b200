"""/signin/ as a person uses it: email, password, the MFA step, trusted devices, the tenant
chooser, where it returns to — all through the API's login flow (lockout, audit)."""

from __future__ import annotations

import pytest

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import Session
from tessera.authn.request_auth import SESSION_COOKIE
from tessera.tenancy.services import tenant_settings_update
from tessera.web.discovery import discoverer_register, discoverer_unregister
from tessera.web.pages.signin import DEVICE_COOKIE
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant
from tests.web.conftest import code_now, enrol_totp, page_sign_in

pytestmark = pytest.mark.django_db


def test_email_then_password_signs_in_to_the_account_page_with_an_httponly_cookie(client, ada):
    assert client.get("/signin/").status_code == 200
    answer = page_sign_in(client, "ada@acme.test")
    assert answer.status_code == 302 and answer["Location"] == "/account/"
    cookie = answer.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    session = Session.objects.get(user=ada.user, revoked_at__isnull=True)
    assert session.tenant_id == ada.tenant_id  # the only membership
    login = AuditEvent.objects.get(type=AuditEventType.LOGIN, resource_id=session.pk)
    assert login.changes["method"] == "password"
    page = client.get("/account/")
    assert page.status_code == 200 and b"ada@acme.test" in page.content


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, ada):
    wrong = page_sign_in(client, "ada@acme.test", "not the password")
    unknown = page_sign_in(client, "nobody@acme.test", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert b"Invalid email or password." in wrong.content
    assert b"Invalid email or password." in unknown.content
    assert SESSION_COOKIE not in wrong.cookies
    assert AuditEvent.objects.filter(type=AuditEventType.LOGIN_FAILED).count() == 2


def test_the_account_lockout_of_the_api_holds_on_the_page(client, ada):
    for _ in range(5):
        assert page_sign_in(client, "ada@acme.test", "wrong").status_code == 401
    locked = page_sign_in(client, "ada@acme.test")  # even the right password
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert AuditEvent.objects.filter(type=AuditEventType.ACCOUNT_LOCKED).exists()


def test_the_mfa_step_takes_a_totp_code_then_a_backup_code(client, ada):
    secret, backup = enrol_totp(ada.user)
    answer = page_sign_in(client, "ada@acme.test")
    assert answer["Location"] == "/signin/mfa/"
    assert SESSION_COOKIE not in answer.cookies  # no session before the second factor
    assert client.get("/account/").status_code == 302
    wrong = client.post("/signin/mfa/", {"code": "000000"})
    assert wrong.status_code == 401
    right = client.post("/signin/mfa/", {"code": code_now(secret, 1)})
    assert right.status_code == 302 and right["Location"] == "/account/"
    session = Session.objects.get(user=ada.user, revoked_at__isnull=True)
    assert session.auth_method == "password+mfa" and session.mfa_verified_at is not None

    client.post("/signout/")
    page_sign_in(client, "ada@acme.test")
    with_backup = client.post("/signin/mfa/", {"code": backup[0]})
    assert with_backup.status_code == 302 and with_backup["Location"] == "/account/"


def test_a_trusted_device_skips_the_code_next_time_where_the_tenant_allows_it(client, ada, acme):
    secret, _ = enrol_totp(ada.user)
    page_sign_in(client, "ada@acme.test")
    assert b'name="trust_device"' in client.get("/signin/mfa/").content
    answer = client.post("/signin/mfa/", {"code": code_now(secret, 1), "trust_device": "on"})
    device = answer.cookies[DEVICE_COOKIE]
    assert device["httponly"] and device["path"] == "/signin/"
    client.post("/signout/")
    again = page_sign_in(client, "ada@acme.test")
    assert again["Location"] == "/account/"  # no code asked
    assert Session.objects.get(user=ada.user, revoked_at__isnull=True).device_trusted

    tenant_settings_update(tenant=acme, patch={"mfa": {"allow_trusted_devices": False}})
    client.post("/signout/")
    refused = page_sign_in(client, "ada@acme.test")
    assert refused["Location"] == "/signin/mfa/"  # the tenant no longer honours the device
    assert b'name="trust_device"' not in client.get("/signin/mfa/").content


def test_several_tenants_lead_to_the_chooser_and_the_choice_binds_the_session(client, ada):
    globex = make_tenant("globex")
    make_member(globex, user=ada.user, roles=["viewer"])
    answer = page_sign_in(client, "ada@acme.test", query="?next=/account/%3Ftab%3Dkeys")
    assert answer["Location"] == "/signin/tenant/"
    chooser = client.get("/signin/tenant/")
    assert b"Acme" in chooser.content and b"Globex" in chooser.content
    chosen = client.post("/signin/tenant/", {"tenant": "globex"})
    assert chosen.status_code == 302 and chosen["Location"] == "/account/?tab=keys"
    session = Session.objects.get(user=ada.user, revoked_at__isnull=True)
    assert session.tenant_id == globex.pk
    assert b"ada@acme.test in Globex" in client.get("/account/").content
    assert client.post("/signin/tenant/", {"tenant": "initech"}).status_code == 403


def test_a_tenant_that_asks_for_a_code_this_session_has_not_given_gets_the_mfa_step(client, ada):
    secret, backup = enrol_totp(ada.user)
    globex = make_tenant("globex")
    make_member(globex, user=ada.user, roles=["viewer"])
    page_sign_in(client, "ada@acme.test")
    client.post("/signin/mfa/", {"code": code_now(secret, 1), "trust_device": "on"})
    tenant_settings_update(tenant=globex, patch={"mfa": {"allow_trusted_devices": False}})
    client.post("/signout/")
    page_sign_in(client, "ada@acme.test")  # the device passes the step: no code given
    switched = client.post("/signin/tenant/", {"tenant": "globex"})
    assert switched["Location"] == "/signin/mfa/"
    done = client.post("/signin/mfa/", {"code": backup[0]})
    assert done.status_code == 302
    assert Session.objects.get(user=ada.user, revoked_at__isnull=True).tenant_id == globex.pk


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/account/?x=1", "/account/?x=1"),
        ("https://evil.test/phish", "/account/"),
        ("//evil.test/", "/account/"),
        ("https://app.example.test/back", "https://app.example.test/back"),
    ],
)
def test_next_is_followed_only_to_local_paths_and_registered_origins(
    client, ada, settings, next_url, lands_on
):
    settings.CORS_ORIGINS = ["https://app.example.test"]
    from urllib.parse import quote

    answer = page_sign_in(client, "ada@acme.test", query=f"?return_to={quote(next_url)}")
    assert answer["Location"] == lands_on


def test_a_registered_discoverer_routes_the_email_step_to_its_provider(client, ada):
    def discoverer(email, request, next_url):
        return "https://idp.example.test/authorize" if email.endswith("@acme.test") else None

    discoverer_register(discoverer)
    try:
        routed = client.post("/signin/", {"email": "ada@acme.test"})
        assert routed["Location"] == "https://idp.example.test/authorize"
        other = client.post("/signin/", {"email": "someone@else.test"})
        assert other["Location"] == "/signin/password/"
    finally:
        discoverer_unregister(discoverer)


def test_signing_in_again_ends_the_session_the_browser_held(client, ada):
    page_sign_in(client, "ada@acme.test")
    first = Session.objects.get(user=ada.user, revoked_at__isnull=True)
    page_sign_in(client, "ada@acme.test")
    first.refresh_from_db()
    assert first.revoked_reason == "reauthenticated"
    assert Session.objects.filter(user=ada.user, revoked_at__isnull=True).count() == 1


def test_bad_input_is_a_form_error_not_a_crash(client, ada):
    assert client.post("/signin/", {"email": "not an email"}).status_code == 400
    assert client.get("/signin/password/")["Location"] == "/signin/"  # no email step yet
    assert client.get("/signin/mfa/")["Location"] == "/signin/"
    page_sign_in(client, "ada@acme.test")
    client.post("/signout/")
    assert client.post("/signin/password/", {"password": "x" * 5000}).status_code in (302, 400)


def test_the_page_session_authenticates_the_api_under_csrf(client, ada):
    page_sign_in(client, "ada@acme.test")
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["user"]["email"] == "ada@acme.test"
    assert DEFAULT_PASSWORD  # the password never appears in the page's cookie
    assert DEFAULT_PASSWORD not in client.cookies[SESSION_COOKIE].value


def test_failed_sign_ins_from_one_address_are_throttled_across_accounts(client, ada, settings):
    settings.RATE_LIMIT_AUTH_FAILURES = "3/5minutes"
    for n in range(3):
        assert page_sign_in(client, f"nobody{n}@acme.test", "wrong").status_code == 401
    blocked = page_sign_in(client, "ada@acme.test")  # another account, the right password
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert b"Too many failed authentications from this address." in blocked.content
