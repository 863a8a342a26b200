"""Password policy (every rule with its message), history, change and reset flows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from tests.authn.conftest import login, me, post
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant, make_user

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import PasswordResetToken
from tessera.errors import ValidationFailed
from tessera.identity.models import PasswordHistory
from tessera.identity.passwords import (
    PasswordPolicy,
    common_passwords,
    password_validate,
    policy_merge,
    policy_violations,
)
from tessera.identity.services import user_password_set

CHANGE = "/api/v1/auth/password/change"
RESET = "/api/v1/auth/password/reset"
CONFIRM = "/api/v1/auth/password/reset/confirm"


def change(client, token, new, current=DEFAULT_PASSWORD):
    return post(client, CHANGE, {"current_password": current, "new_password": new}, token=token)


def codes(response) -> set[str]:
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert all(e["field"] == "new_password" and e["message"] for e in errors)
    return {e["code"] for e in errors}


@pytest.fixture
def strict(acme):
    """A laboratory tenant's policy: every optional rule on."""
    acme.settings["password"] = {
        "min_length": 12,
        "max_length": 64,
        "require_classes": 3,
        "min_unique_chars": 8,
        "history": 3,
        "max_age_days": 90,
    }
    acme.save()
    return acme


@pytest.mark.parametrize(
    ("password", "code", "message"),
    [
        ("short one", "password_too_short", "Use at least 15 characters."),
        ("x" * 129, "password_too_long", "Use at most 128 characters."),
        ("password1234567890", "password_too_common", "too common"),
        ("iloveyouiloveyou", "password_too_common", "too common"),
        ("alice-is-a-long-passphrase", "password_contains_personal_info", "your name"),
        ("acme employees never forget", "password_contains_personal_info", "organisation"),
    ],
)
def test_default_policy_rules_are_refused_with_their_message(
    client, tokens, password, code, message
):
    r = change(client, tokens["access_token"], password)
    assert code in codes(r)
    assert any(message in e["message"] for e in r.json()["errors"] if e["code"] == code)


def test_optional_rules_of_a_strict_tenant(client, strict, alice):
    token = login(client, "alice@example.test", tenant="acme").json()["access_token"]
    found = codes(
        change(client, token, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    )
    assert {"password_too_long", "password_too_few_classes", "password_too_few_unique_chars"} <= (
        found
    )
    r = change(client, token, "abcdefghijklmnop")
    assert "password_too_few_classes" in codes(r)
    assert "Use at least 3 of" in r.json()["errors"][0]["message"]


def test_every_failed_rule_is_listed_at_once(client, strict, alice):
    token = login(client, "alice@example.test", tenant="acme").json()["access_token"]
    r = change(client, token, "alice")
    assert codes(r) >= {
        "password_too_short",
        "password_too_few_classes",
        "password_too_few_unique_chars",
        "password_contains_personal_info",
    }


def test_the_history_refuses_the_last_n_passwords(client, strict, alice):
    history = ["Quartz-Lamp-7-river", "Violet+Engine-42x", "Copper_Harbor-99z"]
    current = DEFAULT_PASSWORD
    for new in history:
        token = login(client, "alice@example.test", current, tenant="acme").json()["access_token"]
        assert change(client, token, new, current=current).status_code == 204
        current = new
    token = login(client, "alice@example.test", current, tenant="acme").json()["access_token"]
    for old in history:  # the current one and the two before it
        r = change(client, token, old, current=current)
        assert codes(r) == {"password_reused"}
        assert "last 3 passwords" in r.json()["errors"][0]["message"]
    assert change(client, token, DEFAULT_PASSWORD + " 4!X", current=current).status_code == 204
    assert PasswordHistory.objects.filter(user=alice.user).count() == 4
    assert DEFAULT_PASSWORD not in str(list(PasswordHistory.objects.values_list("password")))


def test_a_tenant_may_lower_the_minimum_to_8(client, acme, alice):
    acme.settings["password"]["min_length"] = 8
    acme.save()
    token = login(client, "alice@example.test", tenant="acme").json()["access_token"]
    assert change(client, token, "Tr0ub4dor&").status_code == 204
    with pytest.raises(ValidationFailed):
        password_validate("Tr0ub4d", user=alice.user)


def test_the_strictest_policy_of_the_users_tenants_applies(client, acme, alice):
    acme.settings["password"]["min_length"] = 8
    acme.save()
    make_member(make_tenant("globex"), user=alice.user)  # default policy: 15
    token = login(client, "alice@example.test", tenant="acme").json()["access_token"]
    assert "password_too_short" in codes(change(client, token, "Tr0ub4dor&"))


def test_no_truncation_and_no_case_folding(client, tokens, alice):
    long_password = "a river of nouns " * 7 + "end"  # 122 characters
    assert change(client, tokens["access_token"], long_password).status_code == 204
    assert login(client, "alice@example.test", long_password[:72]).status_code == 401
    assert login(client, "alice@example.test", long_password.upper()).status_code == 401
    assert login(client, "alice@example.test", long_password).status_code == 200


def test_unicode_length_counts_code_points():
    policy = PasswordPolicy()
    assert not policy_violations("ñandú-über-çà-ß-€€", policy=policy)
    assert policy_violations("ñandú-über", policy=policy)


def test_the_blocklist_comes_from_a_maintained_list():
    blocked = common_passwords()
    assert len(blocked) > 19_000
    assert {"password", "123456", "qwerty", "iloveyou"} <= blocked


def test_policies_merge_to_the_strictest():
    merged = policy_merge(
        [PasswordPolicy(min_length=8, history=5), PasswordPolicy(min_length=12, max_age_days=30)]
    )
    assert (merged.min_length, merged.history, merged.max_age_days) == (12, 5, 30)
    assert policy_merge([]) == PasswordPolicy()


def test_password_change_revokes_the_other_sessions_only(client, alice):
    other = login(client, "alice@example.test").json()
    mine = login(client, "alice@example.test").json()
    assert change(client, mine["access_token"], "a completely new passphrase").status_code == 204
    assert me(client, mine["access_token"]).status_code == 200
    assert me(client, other["access_token"]).status_code == 401
    assert login(client, "alice@example.test").status_code == 401
    assert login(client, "alice@example.test", "a completely new passphrase").status_code == 200
    assert AuditEvent.objects.filter(type=AuditEventType.PASSWORD_CHANGE).count() == 1


def test_a_wrong_current_password_is_refused(client, tokens):
    r = change(client, tokens["access_token"], "a completely new passphrase", current="nope")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "current_password"


def test_an_administrator_set_password_is_checked_against_the_policy(alice):
    with pytest.raises(ValidationFailed) as caught:
        user_password_set(user=alice.user, password="short", must_change=True)
    assert {e["code"] for e in caught.value.errors} >= {"password_too_short"}


def _reset_token() -> str:
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    found = re.search(r"/reset/\?token=([A-Za-z0-9_-]+)", message.body)
    assert found and message.body.count("http://127.0.0.1:8000/reset/?token=") == 1
    return found.group(1)


def test_password_reset_by_email(client, alice, settings):
    old = login(client, "alice@example.test").json()
    r = post(client, RESET, {"email": "ALICE@example.test"})
    assert r.status_code == 202
    token = _reset_token()
    assert mail.outbox[0].to == ["alice@example.test"]
    assert token not in str(list(PasswordResetToken.objects.values_list("token_hash")))
    weak = post(client, CONFIRM, {"token": token, "new_password": "short"})
    assert weak.status_code == 422 and "password_too_short" in codes(weak)
    ok = post(client, CONFIRM, {"token": token, "new_password": "a brand new passphrase"})
    assert ok.status_code == 204
    assert me(client, old["access_token"]).status_code == 401  # every session is revoked
    assert login(client, "alice@example.test", "a brand new passphrase").status_code == 200
    again = post(client, CONFIRM, {"token": token, "new_password": "yet another passphrase"})
    assert again.status_code == 400  # single use
    stages = [e.changes["stage"] for e in AuditEvent.objects.filter(type="PASSWORD_RESET")]
    assert sorted(stages) == ["completed", "requested"]


def test_password_reset_answers_202_for_unknown_and_inactive_addresses(client, db):
    make_user("inactive@example.test", is_active=False)
    for email in ("nobody@example.test", "inactive@example.test", "not an email"):
        assert post(client, RESET, {"email": email}).status_code == 202
    assert mail.outbox == []


def test_reset_tokens_expire_after_an_hour(client, alice):
    post(client, RESET, {"email": "alice@example.test"})
    token = _reset_token()
    PasswordResetToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = post(client, CONFIRM, {"token": token, "new_password": "a brand new passphrase"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_reset_token"
    assert post(client, CONFIRM, {"token": "garbage", "new_password": "x" * 20}).status_code == 400


def test_reset_requests_per_address_are_capped(client, alice):
    for _ in range(8):
        assert post(client, RESET, {"email": "alice@example.test"}).status_code == 202
    assert len(mail.outbox) == 5
