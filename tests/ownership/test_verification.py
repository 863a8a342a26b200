"""Email verification: request (202 always, rate-limited), confirm (single use, expiring)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.verification import VERIFY_REQUESTS_PER_HOUR
from tessera.identity.models import EmailVerificationToken, User
from tests.factories import DEFAULT_PASSWORD, make_member, make_user
from tests.ownership.conftest import NEW_PASSWORD, call, login, mailed_token, token_of


def ask(email):
    return call("post", "/auth/email/verify", {"email": email})


def confirm(token, password=None):
    body = {"token": token}
    if password:
        body["password"] = password
    return call("post", "/auth/email/verify/confirm", body)


def test_the_answer_is_202_for_known_unknown_and_malformed_addresses(world):
    make_user("owner@example.test")
    answers = [ask(e) for e in ("owner@example.test", "nobody@example.test", "not an email")]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len({a.content for a in answers}) == 1
    assert [m.to for m in mail.outbox] == [["owner@example.test"]]
    assert EmailVerificationToken.objects.count() == 1


def test_an_owned_identity_is_verified_with_the_token_alone(world):
    user = make_user("owner@example.test")
    ask(user.email)
    token = mailed_token("verify_email", user.email)
    assert token not in str(list(EmailVerificationToken.objects.values_list("token_hash")))
    assert confirm(token).status_code == 204
    user.refresh_from_db()
    assert user.email_verified_at is not None and user.managed_by_tenant_id is None
    used = confirm(token)
    assert used.status_code == 400 and used.json()["code"] == "invalid_token"
    event = AuditEvent.objects.get(type=AuditEventType.EMAIL_VERIFIED)
    assert event.tenant_id is None and event.resource_id == str(user.pk)


def test_a_managed_identity_needs_a_new_password_and_ends_what_the_tenant_knew(world):
    person = make_member(world.acme, "managed@acme.test").user
    assert person.managed_by_tenant_id == world.acme.pk
    session = token_of(person.email, "acme")
    ask(person.email)
    token = mailed_token("verify_email", person.email)
    missing = confirm(token)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "password"
    assert confirm(token, NEW_PASSWORD).status_code == 204
    person.refresh_from_db()
    assert person.managed_by_tenant_id is None and person.check_password(NEW_PASSWORD)
    assert call("get", "/auth/me", token=session).status_code == 401
    assert login(person.email, DEFAULT_PASSWORD, "acme").status_code == 401
    event = AuditEvent.objects.get(type=AuditEventType.EMAIL_VERIFIED)
    assert event.tenant_id == world.acme.pk  # the tenant that stops managing it is told


def test_expired_and_unknown_tokens_are_400_and_change_nothing(world):
    user = make_user("owner@example.test")
    ask(user.email)
    token = mailed_token("verify_email", user.email)
    EmailVerificationToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert confirm(token).status_code == 400
    assert confirm("nope").json()["code"] == "invalid_token"
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_requests_per_address_are_capped(world):
    make_user("owner@example.test")
    for _ in range(VERIFY_REQUESTS_PER_HOUR + 3):
        assert ask("owner@example.test").status_code == 202
    assert len(mail.outbox) == VERIFY_REQUESTS_PER_HOUR


@pytest.mark.parametrize("body", [{}, {"email": 5}, {"email": "x" * 400}])
def test_bad_bodies_are_422(world, body):
    assert call("post", "/auth/email/verify", body).status_code == 422


def test_an_earlier_link_dies_when_one_is_used(world):
    user = make_user("owner@example.test")
    ask(user.email)
    first = mailed_token("verify_email", user.email)
    ask(user.email)
    second = mailed_token("verify_email", user.email)
    assert confirm(second).status_code == 204
    assert confirm(first).status_code == 400
    assert User.objects.get(pk=user.pk).email_verified_at is not None


def test_cleanup_deletes_used_and_expired_links(world):
    import io

    from django.core.management import call_command

    user = make_user("owner@example.test")
    ask(user.email)
    ask(user.email)
    confirm(mailed_token("verify_email", user.email))  # spends both (the earlier one dies)
    ask(user.email)
    live = EmailVerificationToken.objects.filter(used_at__isnull=True).count()
    assert live == 1
    call_command("cleanup", stdout=io.StringIO())
    assert EmailVerificationToken.objects.count() == 1


def test_a_failing_mail_server_is_logged_not_raised(world, settings, caplog):
    settings.EMAIL_BACKEND = "tests.ownership.test_verification.BrokenBackend"
    make_user("owner@example.test")
    with caplog.at_level("ERROR", logger="tessera.identity.mailer"):
        import threading

        before = set(threading.enumerate())
        assert ask("owner@example.test").status_code == 202
        for thread in set(threading.enumerate()) - before:
            thread.join(timeout=5)
    assert "could not send the verify_email mail" in caplog.text
    assert "token=" not in caplog.text


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")
