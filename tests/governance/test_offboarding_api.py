"""Offboarding refusals (nothing changes), cancellation, and the stored export."""

from __future__ import annotations

import pytest

from tessera.access.services.admins import LastAdmin
from tessera.audit.models import AuditEvent
from tessera.lifecycle.models import Offboarding
from tessera.lifecycle.offboarding import member_offboard
from tessera.tenancy.models import Membership
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _unchanged(world):
    assert not Offboarding.objects.exists()
    assert Membership.objects.get(pk=world.member.pk).status == "active"
    assert not AuditEvent.objects.filter(type="MEMBER_OFFBOARDED").exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"transfer_to": "outsider"}, 422, "transfer_target_unknown"),
        ({"transfer_to": "suspended"}, 422, "transfer_target_inactive"),
        ({"transfer_to": "self"}, 422, "transfer_to_self"),
        ({"transfer_to": "not-a-uuid"}, 422, "transfer_target_unknown"),
        ({"erase_after_days": -1}, 422, "out_of_range"),
        ({"erase_after_days": 3651}, 422, "out_of_range"),
    ],
)
def test_bad_offboardings_are_refused_with_nothing_changed(world, api, body, status, code):
    suspended = make_member(world.acme, "gone@acme.test", roles=["member"], status="suspended")
    names = {
        "outsider": str(world.outsider.user_id),
        "suspended": str(suspended.user_id),
        "self": str(world.member.user_id),
    }
    if "transfer_to" in body:
        body = {"transfer_to": names.get(body["transfer_to"], body["transfer_to"])}
    r = api(world.admin).post(f"/users/{world.member.user_id}/offboard", body)
    assert r.status_code == status, r.content
    assert r.json()["code"] == code
    _unchanged(world)


def test_who_may_offboard_whom(world, api):
    r = api(world.admin).post(f"/users/{world.admin.user_id}/offboard", {})
    assert r.status_code == 409 and r.json()["code"] == "self_action_forbidden"
    r = api(world.manager).post(f"/users/{world.member.user_id}/offboard", {})
    assert r.status_code == 403  # managers lack user:delete
    r = api(world.outsider).post(f"/users/{world.member.user_id}/offboard", {})
    assert r.status_code == 404
    _unchanged(world)


def test_an_offboarding_is_cancelled_before_its_erasure_and_only_once(world, api):
    path = f"/users/{world.member.user_id}/offboard"
    first = api(world.admin).post(path, {"erase_after_days": 10})
    assert first.status_code == 200 and first.json()["status"] == "offboarded"
    again = api(world.admin).post(path, {})
    assert again.status_code == 409 and again.json()["code"] == "already_offboarded"

    export = api(world.admin).get(path + "/export")
    assert export.status_code == 200 and export.json()["profile"]
    assert api(world.manager).get(path + "/export").status_code == 403

    cancelled = api(world.admin).post(path + "/cancel", {})
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    assert Membership.objects.get(pk=world.member.pk).status == "active"
    assert api(world.admin).get(path + "/export").status_code == 404  # dropped
    assert api(world.admin).get(path).json()["status"] == "cancelled"
    twice = api(world.admin).post(path + "/cancel", {})
    assert twice.status_code == 409 and twice.json()["code"] == "not_offboarded"
    assert AuditEvent.objects.filter(type="OFFBOARDING_CANCELLED").count() == 1


def test_an_erasure_that_is_due_can_no_longer_be_cancelled(world, api):
    path = f"/users/{world.member.user_id}/offboard"
    r = api(world.admin).post(path, {"erase_after_days": 0})
    assert r.status_code == 200
    late = api(world.admin).post(path + "/cancel", {})
    assert late.status_code == 409 and late.json()["code"] == "erasure_due"
    assert Membership.objects.get(pk=world.member.pk).status == "suspended"


def test_the_last_administrator_is_not_offboarded(world, api):
    second = make_member(world.acme, "second@acme.test", roles=["admin"])
    r = api(second).post(f"/users/{world.admin.user_id}/offboard", {})
    assert r.status_code == 200
    with pytest.raises(LastAdmin):  # the tenant's only active administrator now
        member_offboard(membership=second, by=None)
    assert Offboarding.objects.count() == 1
