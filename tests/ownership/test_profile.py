"""PATCH /api/v1/auth/me: the person edits their own profile; who else may edit what."""

from __future__ import annotations

import pytest

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.identity.models import User
from tests.factories import make_member
from tests.ownership.conftest import call, token_of


def test_the_person_edits_their_profile(world):
    token = world.token(world.acme_manager)
    r = call(
        "patch",
        "/auth/me",
        {"first_name": " Mona ", "timezone": "Europe/Paris", "avatar_url": "https://x.test/a.png"},
        token=token,
    )
    assert r.status_code == 200, r.content
    assert r.json()["first_name"] == "Mona" and r.json()["timezone"] == "Europe/Paris"
    assert r.json()["email_verified"] is False and r.json()["managed"] is True
    event = AuditEvent.objects.get(type=AuditEventType.PROFILE_UPDATE)
    assert event.tenant_id is None and event.changes["after"]["first_name"] == "Mona"
    assert call("get", "/auth/me", token=token).json()["user"]["first_name"] == "Mona"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"language": ""}, "language"),
        ({"email": "new@x.test"}, "email"),
    ],
)
def test_bad_fields_are_422_naming_them(world, body, field):
    r = call("patch", "/auth/me", body, token=world.token(world.acme_manager))
    assert r.status_code == 422, r.content
    assert field in str(r.json())


def test_anonymous_and_api_keys_and_limited_sessions_cannot(world):
    assert call("patch", "/auth/me", {"first_name": "X"}).status_code == 401
    key = call(
        "post",
        "/api-keys",
        {"name": "k", "scopes": ["user:read"]},
        token=world.token(world.acme_admin),
    ).json()["key"]
    assert call("patch", "/auth/me", {"first_name": "X"}, key=key).status_code == 403
    User.objects.filter(pk=world.acme_manager.user_id).update(must_change_password=True)
    limited = token_of(world.acme_manager.user.email, "acme")
    r = call("patch", "/auth/me", {"first_name": "X"}, token=limited)
    assert r.status_code == 403 and r.json()["code"] == "password_change_required"


def test_the_managing_tenant_edits_the_profile_until_it_is_verified(world):
    person = make_member(world.acme, "managed@acme.test", roles=["viewer"]).user
    r = world.as_(world.acme_admin, "patch", f"/users/{person.pk}", {"first_name": "Set"})
    assert r.status_code == 200 and r.json()["first_name"] == "Set"
    assert r.json()["profile_editable"] is True
    User.objects.filter(pk=person.pk).update(managed_by_tenant=None)
    r = world.as_(world.acme_admin, "patch", f"/users/{person.pk}", {"first_name": "Again"})
    assert r.status_code == 409 and r.json()["code"] == "profile_managed_elsewhere"
