"""/api/v1/grants and /api/v1/delegations: per role, guard rails, and delegation windows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tessera.access.models import Delegation, Grant
from tests.api.conftest import Api

CALLERS = ("admin", "manager", "viewer", "member", "outsider")


def as_(world, name):
    return Api(getattr(world, name).user, "acme")


def doc_grant(user_id, permission="user:read", resource_id="42"):
    return {
        "subject": {"user_id": str(user_id)},
        "permission": permission,
        "resource_type": "document",
        "resource_id": resource_id,
    }


# --- grants -------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
def test_grants_per_role(world, caller):
    client = as_(world, caller)
    can_read = caller in ("admin", "manager", "member")
    can_write = caller in ("admin", "manager")
    response = client.post("/grants", doc_grant(world.viewer.user_id))
    assert response.status_code == (201 if can_write else 403)
    if not can_write:
        grant = Grant.objects.create(
            tenant=world.acme,
            membership=world.viewer,
            permission="user:read",
            resource_type="document",
            resource_id="42",
        )
        grant_id = str(grant.pk)
    else:
        grant_id = response.json()["id"]
        assert response.json()["subject"] == {"user_id": str(world.viewer.user_id)}
    response = client.get("/grants")
    assert response.status_code == (200 if can_read else 403)
    if can_read:
        assert [g["id"] for g in response.json()["items"]] == [grant_id]
    assert client.delete(f"/grants/{grant_id}").status_code == (204 if can_write else 403)


def test_a_grant_shows_in_the_members_effective_permissions(world):
    admin = as_(world, "admin")
    grant = admin.post("/grants", doc_grant(world.viewer.user_id, "document:approve")).json()
    entries = admin.get(f"/users/{world.viewer.user_id}/permissions").json()["permissions"]
    [entry] = [e for e in entries if e["source"]["kind"] == "grant"]
    assert entry["permission"] == "document:approve"
    assert entry["source"]["source_id"] == grant["id"]


def test_nobody_grants_what_they_do_not_hold(world):
    response = as_(world, "manager").post(
        "/grants", doc_grant(world.viewer.user_id, "document:approve")
    )
    assert response.status_code == 403 and response.json()["code"] == "not_held"
    assert not Grant.objects.exists()


def test_grant_subjects_are_validated(world):
    admin = as_(world, "admin")
    body = doc_grant(world.outsider.user_id)
    response = admin.post("/grants", body)
    assert (
        response.status_code == 422 and response.json()["errors"][0]["field"] == "subject.user_id"
    )
    body["subject"] = {"role": "ghost"}
    assert admin.post("/grants", body).json()["errors"][0]["field"] == "subject.role"
    body["subject"] = {}
    assert admin.post("/grants", body).status_code == 422
    body["subject"] = {"role": "viewer"}
    response = admin.post("/grants", body)
    assert response.status_code == 201 and response.json()["subject"] == {"role": "viewer"}
    body["expires_at"] = (timezone.now() - timedelta(days=1)).isoformat()
    assert admin.post("/grants", body).status_code == 422


def test_listing_grants_costs_the_same_queries(world, django_assert_max_num_queries):
    admin = as_(world, "admin")
    admin.post("/grants", doc_grant(world.viewer.user_id))
    admin.get("/grants")
    with django_assert_max_num_queries(20) as few:
        admin.get("/grants")
    baseline = len(few)
    for i in range(15):
        admin.post("/grants", doc_grant(world.member.user_id, resource_id=str(i)))
    admin.get("/grants")
    with django_assert_max_num_queries(baseline):
        assert len(admin.get("/grants", {"limit": 100}).json()["items"]) == 16


# --- delegations --------------------------------------------------------------------------------


def window(hours_from=0.0, hours_to=24.0):
    now = timezone.now()
    return {
        "starts_at": (now + timedelta(hours=hours_from)).isoformat(),
        "ends_at": (now + timedelta(hours=hours_to)).isoformat(),
    }


def test_any_member_delegates_what_they_hold_and_nothing_more(world):
    member = as_(world, "member")
    body = {"delegate_id": str(world.viewer.user_id), "permissions": ["grant:read"], **window()}
    response = member.post("/delegations", {**body, "reason": "holiday"})
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "active" and response.json()["in_force"] is True
    response = member.post("/delegations", {**body, "permissions": ["user:create"]})
    assert response.status_code == 403 and response.json()["code"] == "not_held"
    response = as_(world, "viewer").post(
        "/delegations",
        {**body, "delegate_id": str(world.member.user_id), "permissions": ["audit_log:read"]},
    )
    assert response.status_code == 403  # the viewer does not hold audit_log:read
    response = member.post("/delegations", {**body, "role": "member", "permissions": None})
    assert response.status_code == 201 and response.json()["role"] == "member"
    response = as_(world, "outsider").post("/delegations", body)
    assert response.status_code == 403


def test_delegating_on_someones_behalf_needs_delegation_create(world):
    body = {
        "delegate_id": str(world.viewer.user_id),
        "delegator_id": str(world.member.user_id),
        "permissions": ["grant:read"],
        **window(),
    }
    assert as_(world, "viewer").post("/delegations", body).status_code == 403
    response = as_(world, "manager").post("/delegations", body)
    assert response.status_code == 201
    assert response.json()["delegator_id"] == str(world.member.user_id)
    assert response.json()["created_by"] == str(world.manager.user_id)


@pytest.mark.parametrize("caller", CALLERS)
def test_reading_delegations(world, caller):
    as_(world, "member").post(
        "/delegations",
        {"delegate_id": str(world.viewer.user_id), "permissions": ["grant:read"], **window()},
    )
    ok = caller in ("admin", "manager", "member")
    response = as_(world, caller).get("/delegations")
    assert response.status_code == (200 if ok else 403)
    if ok:
        assert len(response.json()["items"]) == 1


def test_approval_when_the_tenant_requires_it(world):
    as_(world, "admin").patch("/tenant", {"settings": {"delegation": {"require_approval": True}}})
    created = (
        as_(world, "member")
        .post(
            "/delegations",
            {"delegate_id": str(world.viewer.user_id), "permissions": ["grant:read"], **window()},
        )
        .json()
    )
    assert created["status"] == "pending" and created["in_force"] is False
    path = f"/delegations/{created['id']}/approve"
    assert as_(world, "viewer").post(path).status_code == 403
    assert as_(world, "member").post(path).status_code == 403  # no delegation:approve
    response = as_(world, "manager").post(path)
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert response.json()["approved_by"] == str(world.manager.user_id)
    assert as_(world, "manager").post(path).status_code == 409


def test_the_delegator_or_an_approver_may_revoke(world):
    def delegate():
        return (
            as_(world, "member")
            .post(
                "/delegations",
                {
                    "delegate_id": str(world.viewer.user_id),
                    "permissions": ["grant:read"],
                    **window(),
                },
            )
            .json()["id"]
        )

    first, second = delegate(), delegate()
    assert as_(world, "viewer").post(f"/delegations/{first}/revoke").status_code == 403
    response = as_(world, "member").post(f"/delegations/{first}/revoke")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert as_(world, "member").post(f"/delegations/{first}/revoke").status_code == 409
    assert as_(world, "manager").post(f"/delegations/{second}/revoke").status_code == 200


def test_a_delegation_starts_and_ends_on_time(world, monkeypatch):
    real_now = timezone.now
    created = (
        as_(world, "member")
        .post(
            "/delegations",
            {
                "delegate_id": str(world.viewer.user_id),
                "permissions": ["grant:read"],
                **window(hours_from=1, hours_to=2),
            },
        )
        .json()
    )
    viewer = as_(world, "viewer")
    admin = as_(world, "admin")  # signed in now: access tokens are checked against the real clock

    def at(hours):
        monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(hours=hours))

    assert viewer.get("/grants").status_code == 403  # not yet
    at(1.5)
    assert viewer.get("/grants").status_code == 200  # in force
    at(3)
    assert viewer.get("/grants").status_code == 403  # ended on its own
    [shown] = admin.get("/delegations").json()["items"]
    assert shown["id"] == created["id"]
    assert (shown["status"], shown["in_force"]) == ("expired", False)
    assert Delegation.objects.get(pk=created["id"]).revoked_at is None  # no write was needed


def test_bad_delegations(world):
    member = as_(world, "member")
    base = {"delegate_id": str(world.viewer.user_id), "permissions": ["grant:read"]}
    response = member.post("/delegations", {**base, **window(hours_from=0, hours_to=24 * 200)})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "ends_at"
    response = member.post(
        "/delegations", {**base, **window(), "delegate_id": str(world.outsider.user_id)}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "delegate_id"
    response = member.post(
        "/delegations", {**base, **window(), "role": "ghost", "permissions": None}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "role"
    response = member.post(
        "/delegations", {**base, **window(), "delegate_id": str(world.member.user_id)}
    )
    assert response.status_code == 422
