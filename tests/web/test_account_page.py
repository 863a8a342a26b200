"""/account/ as a person uses it: profile, password, TOTP enrolment, backup codes, devices,
sessions, API keys — through the API's services (policy, escalation rule, audit)."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import ApiKey, Session
from tessera.identity.mfa import mfa_enabled
from tessera.tenancy.services import tenant_settings_update
from tests.factories import DEFAULT_PASSWORD, make_member
from tests.web.conftest import code_now, enrol_totp, page_sign_in

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a brand new long passphrase"


def test_anonymous_visits_to_the_account_page_go_to_sign_in_and_come_back(client, ada):
    answer = client.get("/account/")
    assert answer.status_code == 302 and answer["Location"] == "/signin/?next=%2Faccount%2F"
    signed = page_sign_in(client, "ada@acme.test", query="?next=%2Faccount%2F")
    assert signed["Location"] == "/account/"


def test_the_profile_is_saved_and_audited_and_bad_input_is_shown_on_its_field(signed_in, ada):
    saved = signed_in.post(
        "/account/profile/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "timezone": "Europe/London",
            "language": "en",
            "phone": "",
            "avatar_url": "",
        },
    )
    assert saved.status_code == 302
    ada.user.refresh_from_db()
    assert (ada.user.first_name, ada.user.timezone) == ("Ada", "Europe/London")
    assert AuditEvent.objects.filter(type=AuditEventType.PROFILE_UPDATE).exists()
    assert b"Your profile was saved." in signed_in.get("/account/").content
    bad = signed_in.post(
        "/account/profile/", {"first_name": "Ada", "timezone": "Mars/Olympus", "language": "en"}
    )
    assert bad.status_code == 422
    assert b"An IANA time zone" in bad.content


def test_the_password_change_checks_the_current_one_and_the_policy_and_ends_other_sessions(
    signed_in, ada
):
    other = Client()
    page_sign_in(other, "ada@acme.test")
    wrong = signed_in.post(
        "/account/password/",
        {
            "current_password": "nope",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422 and b"The current password is not correct." in wrong.content
    weak = signed_in.post(
        "/account/password/",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "short",
            "new_password_again": "short",
        },
    )
    assert weak.status_code == 422
    differ = signed_in.post(
        "/account/password/",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD + "x",
        },
    )
    assert differ.status_code == 422 and b"The two passwords differ." in differ.content
    done = signed_in.post(
        "/account/password/",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302
    assert AuditEvent.objects.filter(type=AuditEventType.PASSWORD_CHANGE).exists()
    assert other.get("/account/").status_code == 302  # the other browser is signed out
    assert signed_in.get("/account/").status_code == 200  # this one goes on


def test_totp_enrolment_shows_the_qr_code_then_the_backup_codes_once(signed_in, ada):
    setup = signed_in.post("/account/mfa/setup/")
    assert setup.status_code == 200
    html = setup.content.decode()
    qr = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(qr).startswith(b"<?xml") or b"<svg" in base64.b64decode(qr)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    wrong = signed_in.post("/account/mfa/confirm/", {"code": "000000"})
    assert wrong.status_code in (401, 422) and not mfa_enabled(user_id=ada.user.pk)
    done = signed_in.post("/account/mfa/confirm/", {"code": code_now(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li>([A-Za-z0-9-]{8,})</li>", done.content.decode())
    assert len(codes) == 10
    assert mfa_enabled(user_id=ada.user.pk)
    assert b"10 backup codes left." in signed_in.get("/account/").content


def test_new_backup_codes_need_a_current_code_and_turning_mfa_off_needs_the_password(client, ada):
    secret, backup = enrol_totp(ada.user)
    page_sign_in(client, "ada@acme.test")
    client.post("/signin/mfa/", {"code": backup[9]})
    signed_in = client
    refused = signed_in.post("/account/mfa/backup-codes/", {"code": "123456"})
    assert refused.status_code == 401
    fresh = signed_in.post("/account/mfa/backup-codes/", {"code": backup[0]})
    assert (
        fresh.status_code == 200 and b"Your earlier backup codes no longer work." in fresh.content
    )
    no = signed_in.post("/account/mfa/disable/", {"password": "wrong", "code": backup[1]})
    assert no.status_code == 401 and mfa_enabled(user_id=ada.user.pk)
    off = signed_in.post(
        "/account/mfa/disable/", {"password": DEFAULT_PASSWORD, "code": code_now(secret, 1)}
    )
    assert off.status_code == 302 and not mfa_enabled(user_id=ada.user.pk)


def test_a_tenant_that_requires_mfa_limits_the_session_to_enrolment(client, acme, ada):
    tenant_settings_update(tenant=acme, patch={"mfa": {"required": "all"}})
    page_sign_in(client, "ada@acme.test")
    page = client.get("/account/")
    assert b"requires two-step verification" in page.content
    assert b"Save profile" not in page.content  # only the enrolment is offered
    assert client.get("/signin/tenant/")["Location"] == "/account/"
    refused = client.post("/account/profile/", {"first_name": "X", "timezone": "UTC"})
    assert refused["Location"] == "/account/"
    setup = client.post("/account/mfa/setup/")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup.content.decode()).group(1)
    assert client.post("/account/mfa/confirm/", {"code": code_now(secret)}).status_code == 200
    assert b"Save profile" in client.get("/account/").content


def test_a_forced_password_change_shows_only_the_password_form(client, ada):
    ada.user.must_change_password = True
    ada.user.save(update_fields=["must_change_password"])
    page_sign_in(client, "ada@acme.test")
    page = client.get("/account/")
    assert b"You must choose a new password" in page.content and b"Save profile" not in page.content
    client.post(
        "/account/password/",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert b"Save profile" in client.get("/account/").content


def test_sessions_are_listed_and_ended_but_never_another_persons(signed_in, ada, vic):
    other = Client()
    page_sign_in(other, "ada@acme.test")
    theirs = Client()
    page_sign_in(theirs, "vic@acme.test")
    mine = Session.objects.filter(user=ada.user, revoked_at__isnull=True).order_by("created_at")
    assert mine.count() == 2
    page = signed_in.get("/account/").content.decode()
    assert page.count("/revoke/") >= 2
    vic_session = Session.objects.get(user=vic.user, revoked_at__isnull=True)
    assert signed_in.post(f"/account/sessions/{vic_session.pk}/revoke/").status_code == 404
    assert theirs.get("/account/").status_code == 200
    ended = signed_in.post(f"/account/sessions/{mine.last().pk}/revoke/")
    assert ended.status_code == 302  # a fresh sign-in: a recent password
    assert other.get("/account/").status_code == 302


def test_trusted_devices_are_listed_and_forgotten(client, ada):
    secret, _ = enrol_totp(ada.user)
    page_sign_in(client, "ada@acme.test")
    client.post("/signin/mfa/", {"code": code_now(secret, 1), "trust_device": "on"})
    page = client.get("/account/").content.decode()
    device_id = re.search(r"/account/devices/([0-9a-f-]+)/revoke/", page).group(1)
    assert client.post(f"/account/devices/{device_id}/revoke/").status_code == 302
    assert "/account/devices/" not in client.get("/account/").content.decode()


def test_an_api_key_is_created_within_what_one_holds_shown_once_and_revoked(signed_in, ada):
    created = signed_in.post(
        "/account/api-keys/", {"name": "ci", "scopes": "user:read role:read", "allowed_ips": ""}
    )
    assert created.status_code == 200
    raw = re.search(r'id="api-key">(tsk_[^<]+)<', created.content.decode()).group(1)
    key = ApiKey.objects.get(name="ci")
    assert key.membership_id == ada.pk and sorted(key.scopes) == ["role:read", "user:read"]
    listed = signed_in.get("/account/").content.decode()
    assert f"tsk_{key.prefix}_" in listed and raw not in listed  # never shown again
    assert Client().get("/api/v1/auth/me", headers={"X-API-Key": raw}).status_code == 200
    bad = signed_in.post("/account/api-keys/", {"name": "x", "scopes": "nonsense"})
    assert bad.status_code == 422
    revoked = signed_in.post(f"/account/api-keys/{key.pk}/revoke/")
    assert revoked.status_code == 302
    assert Client().get("/api/v1/auth/me", headers={"X-API-Key": raw}).status_code == 401


def test_a_viewer_cannot_mint_a_key_beyond_their_permissions(client, vic, ada):
    page_sign_in(client, "vic@acme.test")
    refused = client.post("/account/api-keys/", {"name": "x", "scopes": "role:create"})
    assert refused.status_code in (403, 422)
    assert not ApiKey.objects.filter(name="x").exists()


def test_another_members_key_cannot_be_revoked_from_the_page(client, ada, acme):
    from tessera.authn.api_keys import api_key_create

    bob = make_member(acme, "bob@acme.test", roles=["admin"])
    theirs = api_key_create(owner=bob, by=bob, name="bob's", scopes=["user:read"])
    page_sign_in(client, "ada@acme.test")
    assert client.post(f"/account/api-keys/{theirs.key.pk}/revoke/").status_code == 404
    theirs.key.refresh_from_db()
    assert theirs.key.revoked_at is None


def test_account_actions_need_the_csrf_token(ada):
    browser = Client(enforce_csrf_checks=True)
    page_sign_in_csrf = browser.get("/signin/")
    assert page_sign_in_csrf.status_code == 200
    assert browser.post("/signin/", {"email": "ada@acme.test"}).status_code == 403


def test_ending_another_session_needs_a_recent_password(signed_in, ada):
    from datetime import timedelta

    from django.utils import timezone

    other = Client()
    page_sign_in(other, "ada@acme.test")
    first, second = Session.objects.filter(user=ada.user, revoked_at__isnull=True).order_by(
        "created_at"
    )
    Session.objects.filter(pk=first.pk).update(
        password_verified_at=timezone.now() - timedelta(minutes=30)
    )
    refused = signed_in.post(f"/account/sessions/{second.pk}/revoke/")
    assert refused.status_code == 403 and b"last 10 minutes" in refused.content
    assert other.get("/account/").status_code == 200
    own = signed_in.post(f"/account/sessions/{first.pk}/revoke/")  # one's own: always
    assert own.status_code == 302 and own["Location"] == "/signin/"
    assert signed_in.get("/account/").status_code == 302


def test_enrolment_needs_a_recent_password(signed_in, ada):
    from datetime import timedelta

    from django.utils import timezone

    Session.objects.filter(user=ada.user).update(
        password_verified_at=timezone.now() - timedelta(minutes=30)
    )
    answer = signed_in.post("/account/mfa/setup/")
    assert answer.status_code == 403 and b"Confirm it is you" in answer.content
    assert not mfa_enabled(user_id=ada.user.pk)


def test_pages_of_another_tenant_show_nothing_of_it(client, acme, ada, other_tenant):
    from tessera.authn.api_keys import api_key_create

    outsider = make_member(other_tenant, "oz@globex.test", roles=["admin"])
    theirs = api_key_create(owner=outsider, by=outsider, name="globex key", scopes=["user:read"])
    page_sign_in(client, "ada@acme.test")
    page = client.get("/account/").content.decode()
    assert "globex key" not in page and "oz@globex.test" not in page
    assert client.post(f"/account/api-keys/{theirs.key.pk}/revoke/").status_code == 404
    assert client.post("/signin/tenant/", {"tenant": "globex"}).status_code == 403
