"""GET/DELETE /api/v1/users/{id}/sessions[/{session_id}] and POST /api/v1/users/{id}/mfa/reset:
a tenant administrator sees and ends a member's sessions and resets a lost second factor —
within the escalation rule, audited, and effective on the member's very next request."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.devices import device_trust
from tessera.authn.models import Session, TrustedDevice
from tessera.identity import totp
from tessera.identity.mfa import mfa_enabled, totp_confirm, totp_setup
from tessera.identity.models import BackupCode, TotpFactor
from tests.api.conftest import Api
from tests.factories import DEFAULT_PASSWORD, make_member

ME = "/api/v1/auth/me"


def as_(world, name) -> Api:
    return Api(getattr(world, name).user, "acme")


def sign_in(membership, tenant: str = "acme") -> str:
    response = Client().post(
        "/api/v1/auth/login",
        {"email": membership.user.email, "password": DEFAULT_PASSWORD, "tenant": tenant},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def me(token: str) -> int:
    return Client().get(ME, headers={"Authorization": f"Bearer {token}"}).status_code


def code(response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("code")


def enrol(user) -> None:
    import time

    from django.utils import timezone

    secret = totp_setup(user=user).secret
    totp_confirm(user=user, code=totp.code_at_step(secret, totp.time_step(time.time())))
    device_trust(user=user, actor=None, mfa_verified_at=timezone.now())


# --- sessions -----------------------------------------------------------------------------------


def test_an_admin_lists_a_members_sessions_in_this_tenant(world):
    first, second = sign_in(world.viewer), sign_in(world.viewer)
    assert me(first) == me(second) == 200
    response = as_(world, "admin").get(f"/users/{world.viewer.user_id}/sessions")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert len(items) == 2 and response.json()["next_cursor"] is None
    assert {"id", "created_at", "last_activity", "ip", "user_agent"} <= set(items[0])
    page = as_(world, "admin").get(f"/users/{world.viewer.user_id}/sessions", {"limit": 1})
    assert len(page.json()["items"]) == 1 and page.json()["next_cursor"]
    rest = as_(world, "admin").get(
        f"/users/{world.viewer.user_id}/sessions",
        {"limit": 1, "cursor": page.json()["next_cursor"]},
    )
    assert {i["id"] for i in rest.json()["items"] + page.json()["items"]} == {
        i["id"] for i in items
    }


def test_ending_a_members_sessions_kills_them_on_the_next_request(world):
    token, other = sign_in(world.viewer), sign_in(world.viewer)
    response = as_(world, "manager").delete(f"/users/{world.viewer.user_id}/sessions")
    assert response.status_code == 200 and response.json() == {"ended": 2}
    assert me(token) == 401 and me(other) == 401
    event = AuditEvent.objects.filter(type=AuditEventType.SESSION_REVOKED).latest("created_at")
    assert event.changes["reason"] == "revoked_by_admin" and len(event.changes["sessions"]) == 2
    assert str(event.actor_user_id) == str(world.manager.user_id)
    again = as_(world, "manager").delete(f"/users/{world.viewer.user_id}/sessions")
    assert again.json() == {"ended": 0}


def test_ending_one_session(world):
    kept, ended = sign_in(world.viewer), sign_in(world.viewer)
    session_id = Session.objects.filter(user=world.viewer.user).order_by("-created_at")[0].pk
    path = f"/users/{world.viewer.user_id}/sessions/{session_id}"
    assert as_(world, "admin").delete(path).status_code == 204
    assert me(ended) == 401 and me(kept) == 200
    assert as_(world, "admin").delete(path).status_code == 404  # already ended
    assert AuditEvent.objects.filter(type=AuditEventType.SESSION_REVOKED).count() == 1


@pytest.mark.parametrize("session_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_session_is_404(world, session_id):
    response = as_(world, "admin").delete(f"/users/{world.viewer.user_id}/sessions/{session_id}")
    assert response.status_code == 404


def test_another_members_session_is_404_through_this_member(world):
    sign_in(world.member)
    theirs = Session.objects.get(user=world.member.user).pk
    response = as_(world, "admin").delete(f"/users/{world.viewer.user_id}/sessions/{theirs}")
    assert response.status_code == 404
    assert Session.objects.get(pk=theirs).revoked_at is None


def test_sessions_in_another_tenant_are_neither_listed_nor_ended(world):
    both = make_member(world.globex, "both@example.test", roles=["member"])
    make_member(world.acme, user=both.user, roles=["member"])
    elsewhere = sign_in(both, "globex")
    response = as_(world, "admin").get(f"/users/{both.user_id}/sessions")
    assert response.json()["items"] == []
    assert as_(world, "admin").delete(f"/users/{both.user_id}/sessions").json() == {"ended": 0}
    assert me(elsewhere) == 200


def test_another_tenants_user_is_404(world):
    sign_in(world.outsider, "globex")
    admin = as_(world, "admin")
    uid = world.outsider.user_id
    assert admin.get(f"/users/{uid}/sessions").status_code == 404
    assert admin.delete(f"/users/{uid}/sessions").status_code == 404
    assert admin.post(f"/users/{uid}/mfa/reset").status_code == 404


def test_permissions_and_the_escalation_rule(world):
    sign_in(world.admin)
    manager, viewer = as_(world, "manager"), as_(world, "viewer")
    admin_id = world.admin.user_id
    assert code(manager.get(f"/users/{admin_id}/sessions")) == (403, "target_outranks_you")
    assert code(manager.delete(f"/users/{admin_id}/sessions")) == (403, "target_outranks_you")
    session_id = Session.objects.get(user=world.admin.user).pk
    response = manager.delete(f"/users/{admin_id}/sessions/{session_id}")
    assert code(response) == (403, "target_outranks_you")
    assert Session.objects.get(pk=session_id).revoked_at is None
    assert viewer.get(f"/users/{world.member.user_id}/sessions").status_code == 403
    assert viewer.delete(f"/users/{world.member.user_id}/sessions").status_code == 403
    assert as_(world, "admin").get(f"/users/{world.manager.user_id}/sessions").status_code == 200


# --- MFA reset ----------------------------------------------------------------------------------


def test_an_admin_resets_a_lost_second_factor(world):
    token = sign_in(world.viewer)  # signed in before enrolling: no MFA step
    enrol(world.viewer.user)
    response = as_(world, "admin").post(f"/users/{world.viewer.user_id}/mfa/reset")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "user_id": str(world.viewer.user_id),
        "totp_removed": True,
        "backup_codes_removed": 10,
        "trusted_devices_revoked": 1,
        "sessions_ended": 1,
    }
    user_id = world.viewer.user_id
    assert not mfa_enabled(user_id=user_id)
    assert not TotpFactor.objects.filter(user_id=user_id).exists()
    assert not BackupCode.objects.filter(user_id=user_id).exists()
    assert not TrustedDevice.objects.filter(user_id=user_id, revoked_at__isnull=True).exists()
    assert me(token) == 401
    event = AuditEvent.objects.get(type=AuditEventType.MFA_DISABLED)
    assert event.changes["reset"] is True and str(event.actor_user_id) == str(world.admin.user_id)
    assert str(event.tenant_id) == str(world.acme.pk)
    # nothing left: a second reset still answers, and is audited
    again = as_(world, "admin").post(f"/users/{world.viewer.user_id}/mfa/reset")
    assert again.status_code == 200 and again.json()["totp_removed"] is False


def test_a_manager_cannot_reset_an_admins_second_factor(world):
    enrol(world.admin.user)
    response = as_(world, "manager").post(f"/users/{world.admin.user_id}/mfa/reset")
    assert code(response) == (403, "target_outranks_you")
    assert mfa_enabled(user_id=world.admin.user_id)
    assert as_(world, "viewer").post(f"/users/{world.member.user_id}/mfa/reset").status_code == 403


def test_nobody_resets_their_own_second_factor_here(world):
    enrol(world.admin.user)
    response = as_(world, "admin").post(f"/users/{world.admin.user_id}/mfa/reset")
    assert code(response) == (409, "self_action_forbidden")
    assert mfa_enabled(user_id=world.admin.user_id)


def test_a_person_of_several_tenants_or_a_platform_admin_is_reset_elsewhere(world, platform_admin):
    both = make_member(world.globex, "both@example.test", roles=["member"])
    in_acme = make_member(world.acme, user=both.user, roles=["member"])
    enrol(both.user)
    response = as_(world, "admin").post(f"/users/{in_acme.user_id}/mfa/reset")
    assert code(response) == (409, "mfa_managed_elsewhere")
    assert mfa_enabled(user_id=both.user_id)
    root = make_member(world.acme, roles=["member"], user=platform_admin)
    response = as_(world, "admin").post(f"/users/{root.user_id}/mfa/reset")
    assert code(response) == (409, "mfa_managed_elsewhere")


def test_the_new_operations_are_documented_with_their_errors(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path, method, extra in [
        ("/api/v1/users/{user_id}/sessions", "get", set()),
        ("/api/v1/users/{user_id}/sessions", "delete", set()),
        ("/api/v1/users/{user_id}/sessions/{session_id}", "delete", set()),
        ("/api/v1/users/{user_id}/mfa/reset", "post", {"409"}),
    ]:
        codes = set(map(str, paths[path][method]["responses"]))
        assert {"401", "403", "404", "429"} | extra <= codes, (path, method)
