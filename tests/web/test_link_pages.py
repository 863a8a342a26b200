"""The pages the mailed links open: /reset/, /invitations/accept/?token=, /verify-email/?token=.
Each mail points at its page (tessera.identity.mailer), and each page spends its token through
the API's service."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone

from tessera.administration.members import member_create
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import Session
from tessera.authn.request_auth import SESSION_COOKIE
from tessera.authn.verification import email_verify_request
from tessera.identity.models import User
from tessera.tenancy.models import Membership, MembershipStatus
from tests.factories import DEFAULT_PASSWORD, make_member, make_user
from tests.mailbox import mailed_token
from tests.web.conftest import page_sign_in, post_committed

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a passphrase only the real person knows"


def _mailed_link(kind_path: str, to: str) -> str:
    for message in reversed(mail.outbox):
        if message.to == [to]:
            for word in message.body.split():
                if word.startswith(f"{settings.PUBLIC_URL}{kind_path}?token="):
                    return word.removeprefix(settings.PUBLIC_URL)
    raise AssertionError(f"no link to {kind_path} mailed to {to}")


def test_the_reset_page_mails_a_link_to_itself_and_the_link_sets_a_new_password(client, ada):
    assert client.get("/reset/").status_code == 200
    sent = post_committed(client, "/reset/", {"email": "ada@acme.test"})
    assert sent.status_code == 200 and b"Check your email" in sent.content
    unknown = post_committed(client, "/reset/", {"email": "nobody@acme.test"})
    assert unknown.content == sent.content  # nothing tells whether the address has an account
    link = _mailed_link("/reset/", "ada@acme.test")
    page = client.get(link)
    assert page.status_code == 200 and b"Choose a new password" in page.content
    token = link.split("token=", 1)[1]
    weak = client.post(
        "/reset/", {"token": token, "new_password": "short", "new_password_again": "short"}
    )
    assert weak.status_code == 422
    done = client.post(
        "/reset/",
        {"token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert done.status_code == 200 and b"Your password was changed" in done.content
    spent = client.post(
        "/reset/",
        {
            "token": token,
            "new_password": NEW_PASSWORD + "!",
            "new_password_again": NEW_PASSWORD + "!",
        },
    )
    assert spent.status_code == 400
    assert page_sign_in(Client(), "ada@acme.test", NEW_PASSWORD)["Location"] == "/account/"


def test_an_invited_new_person_chooses_a_password_and_lands_on_their_account(acme, ada):
    with TestCase.captureOnCommitCallbacks(execute=True):
        member_create(tenant=acme, data={"email": "new@acme.test", "roles": ["viewer"]}, by=ada)
    link = _mailed_link("/invitations/accept/", "new@acme.test")
    browser = Client()
    page = browser.get(link)
    assert page.status_code == 200
    assert b"Join Acme" in page.content and b"Choose a password" in page.content
    token = link.split("token=", 1)[1]
    short = browser.post(
        link, {"token": token, "new_password": "short", "new_password_again": "short"}
    )
    assert short.status_code == 422
    accepted = browser.post(
        "/invitations/accept/",
        {"token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert accepted.status_code == 302 and accepted["Location"] == "/account/"
    assert SESSION_COOKIE in accepted.cookies
    assert b"new@acme.test in Acme" in browser.get("/account/").content
    user = User.objects.get(email="new@acme.test")
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(type=AuditEventType.INVITATION_ACCEPTED).exists()
    again = Client().get(link)
    assert again.status_code == 400 and b"already accepted" in again.content


def test_an_invited_verified_person_enters_their_current_password(acme, other_tenant):
    person = make_user("pat@elsewhere.test")
    person.email_verified_at = timezone.now()
    person.save(update_fields=["email_verified_at"])
    admin = make_member(acme, "boss@acme.test", roles=["admin"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        member_create(tenant=acme, data={"email": "pat@elsewhere.test"}, by=admin)
    membership = Membership.objects.get(user=person, tenant=acme)
    assert membership.status == MembershipStatus.INVITED
    token = mailed_token("invitation", "pat@elsewhere.test")
    browser = Client()
    page = browser.get(f"/invitations/accept/?token={token}")
    assert b"Your current password" in page.content
    wrong = browser.post("/invitations/accept/", {"token": token, "password": "nope"})
    assert wrong.status_code == 401
    ok = browser.post("/invitations/accept/", {"token": token, "password": DEFAULT_PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == "/account/"
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_an_invitation_for_someone_else_is_refused_to_a_signed_in_person(acme, ada):
    with TestCase.captureOnCommitCallbacks(execute=True):
        member_create(tenant=acme, data={"email": "new@acme.test"}, by=ada)
    token = mailed_token("invitation", "new@acme.test")
    browser = Client()
    page_sign_in(browser, "ada@acme.test")
    refused = browser.post(
        "/invitations/accept/",
        {"token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert refused.status_code == 403
    assert User.objects.get(email="new@acme.test").email_verified_at is None


def test_a_bad_invitation_link_says_so(client):
    answer = client.get("/invitations/accept/?token=nonsense")
    assert answer.status_code == 400 and b"not valid" in answer.content
    assert client.get("/invitations/accept/").status_code == 400


def test_the_verification_link_is_not_spent_by_opening_it_and_a_managed_account_is_taken_over(
    acme,
):
    member = make_member(acme, "kim@acme.test")  # created by the tenant: managed
    with TestCase.captureOnCommitCallbacks(execute=True):
        email_verify_request(email="kim@acme.test")
    link = _mailed_link("/verify-email/", "kim@acme.test")
    browser = Client()
    page = browser.get(link)
    assert page.status_code == 200 and b"choose a password" in page.content
    member.user.refresh_from_db()
    assert member.user.email_verified_at is None  # a mail scanner's GET spends nothing
    token = link.split("token=", 1)[1]
    done = browser.post(
        "/verify-email/",
        {"token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert done.status_code == 200 and b"Email address confirmed" in done.content
    member.user.refresh_from_db()
    assert member.user.email_verified_at is not None and member.user.managed_by_tenant_id is None
    assert not Session.objects.filter(user=member.user, revoked_at__isnull=True).exists()
    assert browser.get(link).status_code == 400


def test_a_personal_account_confirms_with_one_button(db):
    make_user("sol@own.test")
    with TestCase.captureOnCommitCallbacks(execute=True):
        email_verify_request(email="sol@own.test")
    token = mailed_token("verify_email", "sol@own.test")
    browser = Client()
    assert b"new_password" not in browser.get(f"/verify-email/?token={token}").content
    assert browser.post("/verify-email/", {"token": token}).status_code == 200
    assert User.objects.get(email="sol@own.test").email_verified_at is not None


def test_the_account_page_sends_a_confirmation_link_to_an_unconfirmed_address(client, acme):
    make_member(acme, "kim@acme.test")
    page_sign_in(client, "kim@acme.test")
    assert b"not confirmed" in client.get("/account/").content
    sent = post_committed(client, "/account/verify-email/")
    assert sent.status_code == 302
    assert mailed_token("verify_email", "kim@acme.test")
