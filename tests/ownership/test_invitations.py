"""Invitations through the API: list, resend, revoke, accept (and every way it can fail)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import TrustedDevice
from tessera.identity.models import TotpFactor, User
from tessera.tenancy.models import Invitation, Membership, MembershipStatus
from tests.factories import DEFAULT_PASSWORD, make_member
from tests.ownership.conftest import NEW_PASSWORD, call, login, mailed_token, token_of


def invite(world, email="known@globex.test", **fields):
    """A globex person (verified or not), invited to acme; (user, token)."""
    person = User.objects.filter(email=email).first() or make_member(world.globex, email).user
    r = world.as_(world.acme_admin, "post", "/users", {"email": email, **fields})
    assert r.status_code == 201 and r.json()["status"] == "invited", r.content
    return person, mailed_token("invitation", email)


def accept(invitation_token, password=DEFAULT_PASSWORD, **kw):
    body = {"token": invitation_token}
    if password is not None:
        body["password"] = password
    return call("post", "/auth/invitations/accept", body, **kw)


def verified(user):
    User.objects.filter(pk=user.pk).update(email_verified_at=timezone.now())
    user.refresh_from_db()
    return user


# --- the mail -----------------------------------------------------------------------------------


def test_the_invitation_mail_has_text_and_html_and_the_public_link(world):
    invite(world)
    [message] = [m for m in mail.outbox if m.to == ["known@globex.test"]]
    assert "Acme" in message.subject
    assert "http://127.0.0.1:8000/invitations/accept/?token=" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and '<a href="http://127.0.0.1:8000/invitations' in html
    token = mailed_token("invitation", "known@globex.test")
    assert token not in str(list(Invitation.objects.values_list("token_hash", flat=True)))


def test_a_new_identity_without_password_is_active_and_invited_to_choose_one(world):
    r = world.as_(world.acme_admin, "post", "/users", {"email": "new@acme.test"})
    assert r.json()["status"] == "active"
    token = mailed_token("invitation", "new@acme.test")
    ok = accept(token, NEW_PASSWORD)
    assert ok.status_code == 200, ok.content
    assert ok.json()["tenant"]["slug"] == "acme"
    user = User.objects.get(email="new@acme.test")
    assert user.check_password(NEW_PASSWORD) and user.email_verified_at is not None


def test_a_member_added_without_invitation_is_told_by_mail(world):
    r = world.as_(
        world.acme_admin, "post", "/users", {"email": "pw@acme.test", "password": NEW_PASSWORD}
    )
    assert r.status_code == 201
    [message] = [m for m in mail.outbox if m.to == ["pw@acme.test"]]
    assert "token=" not in message.body and "/signin/" in message.body


# --- list, resend, revoke -----------------------------------------------------------------------


def test_list_resend_and_revoke(world):
    person, first_token = invite(world)
    listed = world.as_(world.acme_admin, "get", "/invitations")
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["email"] == person.email and item["membership_status"] == "invited"
    assert listed.json()["next_cursor"] is None
    assert world.as_(world.globex_admin, "get", "/invitations").json()["items"] == []

    resent = world.as_(world.acme_admin, "post", f"/invitations/{item['id']}/resend")
    assert resent.status_code == 200 and resent.json()["send_count"] == 2
    second_token = mailed_token("invitation", person.email)
    assert second_token != first_token
    assert accept(first_token).json()["code"] == "invalid_token"  # the old link is dead

    revoked = world.as_(world.acme_admin, "delete", f"/invitations/{item['id']}")
    assert revoked.status_code == 204
    assert not Membership.objects.filter(user=person, tenant=world.acme).exists()
    gone = accept(second_token)
    assert gone.status_code == 400 and gone.json()["code"] == "invitation_revoked"
    assert world.as_(world.acme_admin, "get", "/invitations").json()["items"] == []
    again = world.as_(world.acme_admin, "delete", f"/invitations/{item['id']}")
    assert again.status_code == 404
    types = set(AuditEvent.objects.filter(tenant_id=world.acme.pk).values_list("type", flat=True))
    assert {"INVITATION_CREATED", "INVITATION_RESENT", "INVITATION_REVOKED"} <= types


def test_invitations_need_user_create_and_another_tenants_is_404(world):
    invite(world)
    viewer = make_member(world.acme, "viewer@acme.test", roles=["viewer"])
    assert world.as_(viewer, "get", "/invitations").status_code == 403
    item = world.as_(world.acme_admin, "get", "/invitations").json()["items"][0]
    assert world.as_(world.globex_admin, "delete", f"/invitations/{item['id']}").status_code == 404
    r = world.as_(world.globex_admin, "post", f"/invitations/{item['id']}/resend")
    assert r.status_code == 404
    assert world.as_(world.acme_admin, "delete", "/invitations/not-a-uuid").status_code == 404


def test_the_list_pages_with_cursors(world):
    for i in range(3):
        make_member(world.globex, f"p{i}@globex.test")
        world.as_(world.acme_admin, "post", "/users", {"email": f"p{i}@globex.test"})
    page = world.as_(world.acme_admin, "get", "/invitations?limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = world.as_(world.acme_admin, "get", f"/invitations?limit=2&cursor={page['next_cursor']}")
    assert len(rest.json()["items"]) == 1
    assert world.as_(world.acme_admin, "get", "/invitations?cursor=forged").status_code == 422


def test_the_ttl_follows_the_tenant_setting(world):
    r = world.as_(
        world.acme_admin, "patch", "/tenant", {"settings": {"invitations": {"ttl_days": 2}}}
    )
    assert r.status_code == 200, r.content
    invite(world)
    invitation = Invitation.objects.get()
    assert timedelta(days=2) - (invitation.expires_at - invitation.created_at) < timedelta(
        seconds=5
    )
    bad = world.as_(
        world.acme_admin, "patch", "/tenant", {"settings": {"invitations": {"ttl_days": 0}}}
    )
    assert bad.status_code == 422


def test_an_invited_membership_cannot_be_reactivated_or_suspended_by_the_tenant(world):
    person, _ = invite(world)
    r = world.as_(world.acme_admin, "post", f"/users/{person.pk}/reactivate")
    assert r.status_code == 409 and r.json()["code"] == "membership_invited"
    r = world.as_(world.acme_admin, "post", f"/users/{person.pk}/deactivate")
    assert r.status_code == 409
    status = Membership.objects.get(user=person, tenant=world.acme).status
    assert status == MembershipStatus.INVITED


def test_a_password_for_an_existing_identity_is_422(world):
    make_member(world.globex, "known@globex.test")
    r = world.as_(
        world.acme_admin, "post", "/users", {"email": "known@globex.test", "password": NEW_PASSWORD}
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["password"]
    assert not Membership.objects.filter(tenant=world.acme, user__email="known@globex.test")


def test_an_identity_managed_by_the_tenant_is_added_active(world):
    person = make_member(world.acme, "mine@acme.test").user  # managed by acme
    Membership.objects.filter(user=person).delete()
    r = world.as_(world.acme_admin, "post", "/users", {"email": person.email})
    assert r.json()["status"] == "active"


def test_a_platform_administrator_vouches_for_a_tenants_first_admin(world):
    from tessera.administration.tenants import tenant_create_with_admin

    person = make_member(world.globex, "boss@globex.test").user
    _, created = tenant_create_with_admin(slug="initech", name="Initech", admin_email=person.email)
    assert created.membership.status == MembershipStatus.ACTIVE and not created.invited


# --- accepting ----------------------------------------------------------------------------------


def test_an_invited_person_accepts_and_signs_in_to_that_tenant(world):
    person, token = invite(world, roles=["viewer"])
    verified(person)
    other_session = token_of(person.email, "globex")
    r = accept(token)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["tenant"]["slug"] == "acme" and body["user"]["id"] == str(person.pk)
    assert {m["tenant"]["slug"] for m in body["memberships"]} == {"acme", "globex"}
    me = call("get", "/auth/me", token=body["access_token"])
    assert me.json()["roles"] == ["viewer"]
    # a verified identity keeps its password and its other sessions
    assert call("get", "/auth/me", token=other_session).status_code == 200
    event = AuditEvent.objects.get(type=AuditEventType.INVITATION_ACCEPTED)
    assert event.tenant_id == world.acme.pk and event.changes["identity_verified_now"] is False


def test_a_verified_person_needs_their_current_password(world):
    person, token = invite(world)
    verified(person)
    missing = accept(token, password=None)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "password"
    wrong = accept(token, "not the right password at all")
    assert wrong.status_code == 401
    assert Membership.objects.get(user=person, tenant=world.acme).status == "invited"
    assert accept(token).status_code == 200


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        ("expire", "invitation_expired"),
        ("use", "invitation_used"),
        ("revoke", "invitation_revoked"),
        ("unknown", "invalid_token"),
        ("garbage", "invalid_token"),
    ],
)
def test_bad_tokens_answer_400_with_a_clear_code_and_change_nothing(world, spoil, code):
    person, token = invite(world)
    if spoil == "expire":
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif spoil == "use":
        assert accept(token, NEW_PASSWORD).status_code == 200
    elif spoil == "revoke":
        item = world.as_(world.acme_admin, "get", "/invitations").json()["items"][0]
        world.as_(world.acme_admin, "delete", f"/invitations/{item['id']}")
    elif spoil == "unknown":
        token = "A" * 43
    else:
        token = "x" * 600
    password_before = User.objects.get(pk=person.pk).password
    r = accept(token, "yet another long passphrase 42")
    assert r.status_code in (400, 422), r.content
    if r.status_code == 400:
        assert r.json()["code"] == code
    else:  # longer than the schema allows
        assert spoil == "garbage"
    assert User.objects.get(pk=person.pk).password == password_before


def test_accepting_as_another_signed_in_person_is_403(world):
    person, token = invite(world)
    r = accept(token, NEW_PASSWORD, token=world.token(world.acme_admin))
    assert r.status_code == 403 and r.json()["code"] == "invitation_for_another_person"
    assert Membership.objects.get(user=person, tenant=world.acme).status == "invited"
    own = token_of(person.email, "globex")
    assert accept(token, NEW_PASSWORD, token=own).status_code == 200


def test_a_weak_new_password_is_422_and_changes_nothing(world):
    person, token = invite(world)
    r = accept(token, "short")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"
    assert User.objects.get(pk=person.pk).email_verified_at is None
    same = accept(token, DEFAULT_PASSWORD)  # the password someone else may have set
    assert same.status_code == 422 and same.json()["errors"][0]["code"] == "password_reused"


def test_acceptance_of_an_unverified_identity_ends_every_earlier_credential(world):
    person, token = invite(world)
    session = login(person.email, DEFAULT_PASSWORD, "globex").json()
    key = call(
        "post", "/api-keys", {"name": "k", "scopes": ["user:read"]}, token=session["access_token"]
    )
    assert key.status_code == 201, key.content
    TrustedDevice.objects.create(
        user=person,
        token_hash="d" * 64,
        created_at=timezone.now(),
        mfa_verified_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=30),
    )
    TotpFactor.objects.create(
        user=person, secret_encrypted="x", confirmed_at=timezone.now(), created_at=timezone.now()
    )
    r = accept(token, NEW_PASSWORD)
    assert r.status_code == 200, r.content
    assert call("get", "/auth/me", token=session["access_token"]).status_code == 401
    assert call("get", "/auth/me", key=key.json()["key"]).status_code == 401
    assert not TrustedDevice.objects.filter(user=person, revoked_at__isnull=True).exists()
    assert not TotpFactor.objects.filter(user=person).exists()
    assert login(person.email, DEFAULT_PASSWORD, "globex").status_code == 401
    assert call("get", "/auth/me", token=r.json()["access_token"]).status_code == 200


def test_the_tenants_mfa_policy_applies_to_the_acceptance(world):
    world.as_(world.acme_admin, "patch", "/tenant", {"settings": {"mfa": {"required": "all"}}})
    person, token = invite(world)
    r = accept(token, NEW_PASSWORD)
    assert r.status_code == 200 and r.json()["mfa_setup_required"] is True
    limited = r.json()["access_token"]
    assert call("get", "/users", token=limited).status_code == 403


def test_a_person_with_mfa_gets_the_mfa_step(world):
    from tessera.identity import totp
    from tessera.identity.mfa import totp_confirm, totp_setup

    person, token = invite(world)
    verified(person)
    setup = totp_setup(user=person)
    totp_confirm(
        user=person,
        code=totp.code_at_step(setup.secret, totp.time_step(timezone.now().timestamp())),
    )
    r = accept(token)
    assert r.status_code == 200 and r.json()["mfa_required"] is True and r.json()["mfa_token"]
    assert Membership.objects.get(user=person, tenant=world.acme).status == "active"
