"""MFA hardening: enrolment needs a fresh password; a password change forgets trusted devices."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from tests.authn.mfa.conftest import SETUP, VERIFY, code_now, enrol, login, post
from tests.factories import DEFAULT_PASSWORD

from tessera.authn.models import Session


def test_enrolment_needs_a_password_entered_in_the_last_ten_minutes(client, mia):
    body = login(client).json()
    Session.objects.filter(pk=body["session_id"]).update(
        password_verified_at=timezone.now() - timedelta(minutes=11)
    )
    r = post(client, SETUP, token=body["access_token"])
    assert r.status_code == 403 and r.json()["code"] == "reauthentication_required"
    fresh = login(client).json()["access_token"]
    assert post(client, SETUP, token=fresh).status_code == 200


def test_a_password_change_forgets_trusted_devices(client, token, mia):
    enrolled = enrol(client, token)
    pending = login(client).json()["mfa_token"]
    done = post(
        client,
        VERIFY,
        {"mfa_token": pending, "code": code_now(enrolled.secret, 1), "trust_device": True},
    ).json()
    assert login(client, device_token=done["device_token"]).json().get("mfa_required") is None
    changed = post(
        client,
        "/api/v1/auth/password/change",
        {"current_password": DEFAULT_PASSWORD, "new_password": "an entirely new passphrase"},
        token=done["access_token"],
    )
    assert changed.status_code == 204
    again = login(client, password="an entirely new passphrase", device_token=done["device_token"])
    assert again.json()["mfa_required"] is True
