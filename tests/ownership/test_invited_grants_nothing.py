"""An invited membership grants nothing: no login, no tenant by header, no decision, no policy."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tessera.identity.models import User
from tessera.identity.passwords import policy_for_user
from tessera.tenancy.models import Membership
from tests.factories import DEFAULT_PASSWORD, make_member
from tests.ownership.conftest import call, login, mailed_token, token_of


def _invited_admin(world):
    person = make_member(world.globex, "guest@globex.test").user
    r = world.as_(world.acme_admin, "post", "/users", {"email": person.email, "roles": ["admin"]})
    assert r.json()["status"] == "invited"
    return person


def test_the_engine_allows_nothing_to_an_invited_member(world):
    person = _invited_admin(world)
    check = world.as_(
        world.acme_admin,
        "post",
        "/authz/check",
        {"action": "user:read", "subject_id": str(person.pk)},
    )
    assert check.status_code == 200 and check.json() == {"allowed": False}
    batch = world.as_(
        world.acme_admin,
        "post",
        "/authz/check/batch",
        {"checks": [{"action": "role:read", "subject_id": str(person.pk)}]},
    )
    assert batch.status_code == 200 and batch.json()["results"][0]["allowed"] is False


def test_tenant_resolution_refuses_an_invited_member(world):
    person = _invited_admin(world)
    assert login(person.email, DEFAULT_PASSWORD, "acme").status_code == 403
    own = token_of(person.email, "globex")
    assert call("get", "/users", token=own, tenant="acme").status_code == 403
    switched = call("post", "/auth/switch-tenant", {"tenant": "acme"}, token=own)
    assert switched.status_code == 403
    # without `tenant`, the login binds to the only ACTIVE membership (globex)
    assert login(person.email, DEFAULT_PASSWORD).json()["tenant"]["slug"] == "globex"


def test_an_invited_tenant_s_password_policy_changes_nothing_until_accepted(world):
    person = _invited_admin(world)
    world.as_(
        world.acme_admin,
        "patch",
        "/tenant",
        {"settings": {"password": {"max_age_days": 1, "min_length": 40}}},
    )
    User.objects.filter(pk=person.pk).update(password_changed_at=timezone.now() - timedelta(days=2))
    policy = policy_for_user(person)
    assert policy.max_age_days == 0 and policy.min_length == 15
    assert login(person.email, DEFAULT_PASSWORD, "globex").json()["password_change_required"] is (
        False
    )
    # once the person accepts, acme is one of their tenants: its policy counts
    r = call(
        "post",
        "/auth/invitations/accept",
        {"token": mailed_token("invitation", person.email), "password": "x" * 20 + "Q7!pass"},
    )
    assert r.status_code == 422  # shorter than acme's 40 characters
    strong = "a very long passphrase that satisfies the forty character rule"
    r = call(
        "post",
        "/auth/invitations/accept",
        {"token": mailed_token("invitation", person.email), "password": strong},
    )
    assert r.status_code == 200, r.content
    assert Membership.objects.get(user=person, tenant=world.acme).status == "active"
    assert policy_for_user(person).min_length == 40


def test_an_invited_person_s_name_is_neither_shown_searched_nor_exported(world):
    person = _invited_admin(world)
    User.objects.filter(pk=person.pk).update(first_name="Zygmunt", last_name="Quorra")
    found = world.as_(world.acme_admin, "get", "/users?q=Zygmunt").json()["items"]
    assert found == []
    by_email = world.as_(world.acme_admin, "get", "/users?q=guest@globex").json()["items"]
    assert [i["id"] for i in by_email] == [str(person.pk)]
    export = world.as_(world.acme_admin, "get", f"/users/{person.pk}/export")
    assert export.status_code == 200
    body = b"".join(export.streaming_content).decode()
    assert "Zygmunt" not in body and "last_login" not in body
