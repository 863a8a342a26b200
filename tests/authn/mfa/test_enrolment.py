"""TOTP enrolment, backup codes and disabling, through HTTP."""

from __future__ import annotations

from django.db import connection
from tests.authn.mfa.conftest import (
    CONFIRM,
    DISABLE,
    REGENERATE,
    SETUP,
    VERIFY,
    code_now,
    login,
    post,
    problem,
)
from tests.factories import DEFAULT_PASSWORD

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.identity.models import BackupCode, TotpFactor


def test_setup_shows_the_secret_once_and_the_factor_is_inactive_until_confirmed(client, token):
    r = post(client, SETUP, token=token)
    assert r.status_code == 200
    assert r["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"secret", "otpauth_uri", "qr_svg"}
    assert body["secret"] in body["otpauth_uri"] and body["qr_svg"].startswith("<svg")
    # not active yet: a login needs no code
    assert "access_token" in login(client).json()
    status = client.get("/api/v1/auth/mfa", headers={"Authorization": f"Bearer {token}"}).json()
    assert status["enabled"] is False and status["pending"] is True
    assert body["secret"] not in str(status)


def test_the_secret_is_encrypted_at_rest(client, token):
    secret = post(client, SETUP, token=token).json()["secret"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret_encrypted FROM {TotpFactor._meta.db_table}")
        (stored,) = cursor.fetchone()
    assert secret not in stored
    assert secret.lower() not in stored.lower()
    assert stored.startswith("v1:")


def test_confirm_with_a_wrong_code_is_401_and_with_a_right_one_answers_ten_codes(
    client, token, mia
):
    secret = post(client, SETUP, token=token).json()["secret"]
    wrong = post(
        client,
        CONFIRM,
        {"code": "000000" if code_now(secret) != "000000" else "111111"},
        token=token,
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_mfa_code"

    r = post(client, CONFIRM, {"code": code_now(secret)}, token=token)
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    codes = r.json()["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 14 and c.count("-") == 2 for c in codes)
    assert AuditEvent.objects.filter(type=AuditEventType.MFA_ENABLED).count() == 1
    # stored only as hashes
    stored = list(BackupCode.objects.filter(user=mia.user).values_list("code_hash", flat=True))
    assert len(stored) == 10
    for code in codes:
        assert all(code.replace("-", "") not in h for h in stored)
    # setting up again while enabled is refused
    assert post(client, SETUP, token=token).status_code == 409
    assert post(client, CONFIRM, {"code": code_now(secret, 1)}, token=token).status_code == 409


def test_confirm_without_setup_is_409(client, token):
    r = post(client, CONFIRM, {"code": "123456"}, token=token)
    assert r.status_code == 409 and r.json()["code"] == "mfa_setup_not_started"


def test_backup_codes_work_once_each(client, enrolled):
    code = enrolled.backup_codes[0]
    first = login(client).json()
    ok = post(client, VERIFY, {"mfa_token": first["mfa_token"], "code": code.upper()})
    assert ok.status_code == 200, ok.content
    used = AuditEvent.objects.filter(type=AuditEventType.BACKUP_CODE_USED).get()
    assert used.changes == {"backup_codes_remaining": 9}

    again = login(client).json()
    r = post(client, VERIFY, {"mfa_token": again["mfa_token"], "code": code})
    assert r.status_code == 401
    other = post(
        client, VERIFY, {"mfa_token": again["mfa_token"], "code": enrolled.backup_codes[1]}
    )
    assert other.status_code == 200


def test_regenerating_replaces_every_backup_code(client, token, enrolled):
    assert post(client, REGENERATE, {"code": "nonsense"}, token=token).status_code == 401
    r = post(client, REGENERATE, {"code": code_now(enrolled.secret, 1)}, token=token)
    assert r.status_code == 200
    fresh = r.json()["backup_codes"]
    assert len(fresh) == 10 and not set(fresh) & set(enrolled.backup_codes)
    pending = login(client).json()
    old = post(
        client, VERIFY, {"mfa_token": pending["mfa_token"], "code": enrolled.backup_codes[2]}
    )
    assert old.status_code == 401
    new = post(client, VERIFY, {"mfa_token": pending["mfa_token"], "code": fresh[0]})
    assert new.status_code == 200


def test_disable_needs_the_password_and_a_current_code(client, token, enrolled, mia):
    wrong_password = post(
        client, DISABLE, {"password": "not it", "code": code_now(enrolled.secret, 1)}, token=token
    )
    wrong_code = post(
        client, DISABLE, {"password": DEFAULT_PASSWORD, "code": "12345x"}, token=token
    )
    assert wrong_password.status_code == wrong_code.status_code == 401
    assert problem(wrong_password) == problem(wrong_code)  # does not say which
    r = post(
        client,
        DISABLE,
        {"password": DEFAULT_PASSWORD, "code": code_now(enrolled.secret, 1)},
        token=token,
    )
    assert r.status_code == 204
    assert not TotpFactor.objects.filter(user=mia.user).exists()
    assert not BackupCode.objects.filter(user=mia.user).exists()
    assert AuditEvent.objects.filter(type=AuditEventType.MFA_DISABLED).count() == 1
    assert "access_token" in login(client).json()  # no MFA step any more
    assert (
        post(client, DISABLE, {"password": DEFAULT_PASSWORD, "code": "1"}, token=token).status_code
        == 409
    )
