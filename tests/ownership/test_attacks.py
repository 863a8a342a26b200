"""The three attacks of issue 11, each replayed through the API as an attacker would.

Each fails on the code before identity ownership (the identity was attached active, silently,
with its old password and profile) and passes now. They run on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.identity.models import User
from tests.factories import DEFAULT_PASSWORD, make_member
from tests.ownership.conftest import (
    ATTACKER_PASSWORD,
    NEW_PASSWORD,
    call,
    login,
    mailed_token,
    token_of,
)

CFO = "cfo@globex.test"


def test_attack_pre_hijack_across_tenants(world):
    """An acme manager creates cfo@globex.test with a password of their choosing; globex's
    administrator later adds that address: it is only invited, and the acme password never
    opens globex — not before the person accepts, and not at all after."""
    created = world.as_(
        world.acme_manager,
        "post",
        "/users",
        {
            "email": CFO,
            "password": ATTACKER_PASSWORD,
            "must_change_password": False,
            "roles": ["member"],
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "active"  # the identity is acme's own creation
    # the attacker signs in as the CFO in acme, keeps a session and an API key
    attacker = login(CFO, ATTACKER_PASSWORD, "acme")
    assert attacker.status_code == 200, attacker.content
    session_token = attacker.json()["access_token"]
    key = call("post", "/api-keys", {"name": "x", "scopes": ["user:read"]}, token=session_token)
    assert key.status_code == 201, key.content
    api_key = key.json()["key"]

    added = world.as_(world.globex_admin, "post", "/users", {"email": CFO, "roles": ["admin"]})
    assert added.status_code == 201, added.content
    assert added.json()["status"] == "invited"

    # the acme password cannot enter globex: the membership grants nothing yet
    denied = login(CFO, ATTACKER_PASSWORD, "globex")
    assert denied.status_code == 403, denied.content
    header = call("get", "/users", token=session_token, tenant="globex")
    assert header.status_code == 403

    # the real CFO accepts from the mailed link: a new password is required, and replaces it
    token = mailed_token("invitation", CFO)
    missing = call("post", "/auth/invitations/accept", {"token": token})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["password"]
    accepted = call("post", "/auth/invitations/accept", {"token": token, "password": NEW_PASSWORD})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["tenant"]["slug"] == "globex"

    # whatever acme knew is worthless now
    assert login(CFO, ATTACKER_PASSWORD, "globex").status_code == 401
    assert login(CFO, ATTACKER_PASSWORD, "acme").status_code == 401
    assert call("get", "/auth/me", token=session_token).status_code == 401
    assert call("get", "/auth/me", key=api_key).status_code == 401
    refresh = call("post", "/auth/refresh", {"refresh_token": attacker.json()["refresh_token"]})
    assert refresh.status_code == 401
    assert login(CFO, NEW_PASSWORD, "globex").status_code == 200
    person = User.objects.get(email=CFO)
    assert person.email_verified_at is not None and person.managed_by_tenant_id is None


def test_attack_attach_without_consent(world):
    """Any tenant with `user:create` used to attach an existing person as an active member,
    learn that the identity existed and when it last signed in, and tighten that person's
    global password rules. Now: an invited membership, nothing from other tenants, no effect."""
    person = make_member(world.globex, "ceo@globex.test", roles=["admin"]).user
    User.objects.filter(pk=person.pk).update(
        first_name="Gloria",
        last_name="Globex",
        password_changed_at=timezone.now() - timedelta(days=3),
        last_login=timezone.now(),
    )
    added = world.as_(world.acme_admin, "post", "/users", {"email": person.email})
    assert added.status_code == 201, added.content
    body = added.json()
    assert body["status"] == "invited"
    assert "identity_created" not in body and "last_login" not in body
    assert (body["first_name"], body["last_name"], body["full_name"]) == ("", "", "")
    listed = world.as_(world.acme_admin, "get", f"/users/{person.pk}").json()
    assert listed["first_name"] == "" and "last_login" not in listed
    event = AuditEvent.objects.get(
        type=AuditEventType.USER_CREATED, tenant_id=world.acme.pk, resource_id=str(person.pk)
    )
    assert "identity_created" not in event.changes and event.changes["status"] == "invited"

    # the invited membership grants nothing in acme
    own = token_of(person.email, "globex")
    assert call("get", "/auth/me", token=own, tenant="acme").status_code == 403
    assert login(person.email, DEFAULT_PASSWORD, "acme").status_code == 403

    # acme's password rules do not reach the person while they are only invited
    tightened = world.as_(
        world.acme_admin, "patch", "/tenant", {"settings": {"password": {"max_age_days": 1}}}
    )
    assert tightened.status_code == 200, tightened.content
    again = login(person.email, DEFAULT_PASSWORD, "globex")
    assert again.status_code == 200
    assert again.json()["password_change_required"] is False


def test_attack_editing_the_person_not_the_membership(world):
    """`PATCH /users/{id}` of another tenant's person rewrote the global profile every other
    tenant sees. Now only membership fields; the profile belongs to the person."""
    person = make_member(world.globex, "eng@globex.test", roles=["member"]).user
    User.objects.filter(pk=person.pk).update(first_name="Erin", email_verified_at=timezone.now())
    world.as_(world.acme_admin, "post", "/users", {"email": person.email})
    accepted = call(
        "post",
        "/auth/invitations/accept",
        {"token": mailed_token("invitation", person.email), "password": DEFAULT_PASSWORD},
    )
    assert accepted.status_code == 200, accepted.content

    refused = world.as_(world.acme_admin, "patch", f"/users/{person.pk}", {"first_name": "Hijack"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "profile_managed_elsewhere"
    assert [e["field"] for e in refused.json()["errors"]] == ["first_name"]
    person.refresh_from_db()
    assert person.first_name == "Erin"
    membership = world.as_(
        world.acme_admin, "patch", f"/users/{person.pk}", {"job_title": "Consultant"}
    )
    assert membership.status_code == 200 and membership.json()["job_title"] == "Consultant"
    # the person edits themselves
    own = token_of(person.email, "acme")
    me = call("patch", "/auth/me", {"first_name": "Erin B."}, token=own)
    assert me.status_code == 200 and me.json()["first_name"] == "Erin B."


def test_adding_a_member_answers_the_same_fields_for_new_and_existing_identities(world):
    """The answer tells nothing about whether the address had an account: the same keys."""
    new = world.as_(world.acme_admin, "post", "/users", {"email": "fresh@acme.test"})
    other = make_member(world.globex, "known@globex.test").user
    old = world.as_(world.acme_admin, "post", "/users", {"email": other.email})
    assert new.status_code == old.status_code == 201
    assert sorted(new.json()) == sorted(old.json())
    assert not {"identity_created", "invited", "last_login"} & set(new.json())
    for name, value in new.json().items():
        assert type(value) is type(old.json()[name]) or None in (value, old.json()[name]), name


def test_attack_editing_an_owned_person_who_belongs_to_one_tenant_only(world):
    """Belonging to one tenant only never made the profile the tenant's: an identity the person
    owns (verified, or not created by this tenant) is edited by the person alone."""
    created = world.as_(world.acme_admin, "post", "/users", {"email": "solo@acme.test"})
    assert created.status_code == 201 and created.json()["profile_editable"] is True
    person_id = created.json()["id"]
    assert call("post", "/auth/email/verify", {"email": "solo@acme.test"}).status_code == 202
    confirmed = call(
        "post",
        "/auth/email/verify/confirm",
        {"token": mailed_token("verify_email", "solo@acme.test"), "password": NEW_PASSWORD},
    )
    assert confirmed.status_code == 204, confirmed.content
    refused = world.as_(world.acme_admin, "patch", f"/users/{person_id}", {"last_name": "X"})
    assert refused.status_code == 409 and refused.json()["code"] == "profile_managed_elsewhere"
    assert world.as_(world.acme_admin, "get", f"/users/{person_id}").json()["profile_editable"] is (
        False
    )

    # an identity acme never created (e.g. the operator's), alone in acme: not acme's either
    operator = User.objects.create_user("ops@acme.test", DEFAULT_PASSWORD)
    make_member(world.acme, user=operator, roles=["viewer"])
    refused = world.as_(world.acme_admin, "patch", f"/users/{operator.pk}", {"first_name": "X"})
    assert refused.status_code == 409
