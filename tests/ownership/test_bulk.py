"""Bulk import follows the active/invited rule row by row."""

from __future__ import annotations

from tessera.tenancy.models import Invitation, Membership
from tests.factories import make_member
from tests.ownership.conftest import mailed_token


def test_each_row_is_active_or_invited_by_the_same_rule(world):
    make_member(world.globex, "known@globex.test")
    r = world.as_(
        world.acme_admin,
        "post",
        "/users/bulk",
        {"users": [{"email": "fresh@acme.test"}, {"email": "known@globex.test"}]},
    )
    assert r.status_code == 200, r.content
    rows = r.json()["results"]
    assert [(x["status"], x["membership_status"]) for x in rows] == [
        ("created", "active"),
        ("created", "invited"),
    ]
    assert Membership.objects.get(user__email="known@globex.test", tenant=world.acme).status == (
        "invited"
    )
    assert Invitation.objects.filter(tenant=world.acme).count() == 2  # set a password / consent
    mailed_token("invitation", "known@globex.test")
    again = world.as_(
        world.acme_admin, "post", "/users/bulk", {"users": [{"email": "known@globex.test"}]}
    ).json()["results"][0]
    assert (again["status"], again["membership_status"]) == ("exists", "invited")


def test_a_password_column_is_not_accepted(world):
    r = world.as_(
        world.acme_admin,
        "post",
        "/users/bulk",
        {"users": [{"email": "x@acme.test", "password": "a long enough passphrase 1"}]},
    )
    # rows never carry passwords (every new identity chooses its own through the invitation)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "created"
    assert Invitation.objects.filter(email="x@acme.test").exists()
