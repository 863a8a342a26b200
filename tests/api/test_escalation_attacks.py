"""Issue 12, attacks 1 and 2: no one hands out, or acts on someone holding, more than they hold.

Each `test_attack_*` replays a request sequence that succeeded on the old main (a manager made
themselves administrator through a delegation naming an administrator as delegator; approved a
delegation they created themselves; suspended, reactivated and edited administrators) and now
answers 403. The others pin the rule's edges: what a manager may still do, and the same rule on
the paths around (roles, overrides, grants, keys, erasure, the admin site).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tessera.access.models import Delegation, DelegationStatus, Grant, RoleAssignment
from tessera.access.services.assignments import role_assign
from tessera.access.services.delegations import delegation_create
from tessera.tenancy.models import Membership, MembershipStatus
from tests.access.helpers import allow, deny, make_role
from tests.api.conftest import Api
from tests.factories import make_member


def window(days: int = 2) -> dict:
    now = timezone.now()
    return {"starts_at": now.isoformat(), "ends_at": (now + timedelta(days=days)).isoformat()}


def as_(world, name) -> Api:
    return Api(getattr(world, name).user, "acme")


def code(response) -> tuple[int, str | None]:
    body = response.json() if response.content else {}
    return response.status_code, body.get("code")


def require_approval(world) -> None:
    response = as_(world, "admin").patch(
        "/tenant", {"settings": {"delegation": {"require_approval": True}}}
    )
    assert response.status_code == 200


# --- attack 1: manager -> admin through a delegation --------------------------------------------


def test_attack_manager_cannot_delegate_admin_role_from_an_admin_to_self(world):
    manager = as_(world, "manager")
    body = {
        "delegator_id": str(world.admin.user_id),
        "delegate_id": str(world.manager.user_id),
        "role": "admin",
        "reason": "attack",
        **window(),
    }
    assert code(manager.post("/delegations", body)) == (403, "not_held")
    assert not Delegation.objects.exists()
    assert manager.patch("/tenant", {"name": "Owned"}).status_code == 403


def test_attack_manager_cannot_delegate_permissions_they_lack_on_an_admins_behalf(world):
    manager = as_(world, "manager")
    body = {
        "delegator_id": str(world.admin.user_id),
        "delegate_id": str(world.manager.user_id),
        "permissions": ["tenant:update"],
        **window(),
    }
    assert code(manager.post("/delegations", body)) == (403, "not_held")
    body["delegate_id"] = str(world.member.user_id)  # nor to an accomplice
    assert code(manager.post("/delegations", body)) == (403, "not_held")
    assert not Delegation.objects.exists()


def test_on_someones_behalf_the_caller_still_gives_what_they_hold(world):
    body = {
        "delegator_id": str(world.admin.user_id),
        "delegate_id": str(world.viewer.user_id),
        "permissions": ["grant:read"],
        **window(),
    }
    response = as_(world, "manager").post("/delegations", body)
    assert response.status_code == 201, response.content
    assert response.json()["delegator_id"] == str(world.admin.user_id)
    assert response.json()["created_by"] == str(world.manager.user_id)


def test_attack_creator_cannot_approve_own_delegation(world):
    require_approval(world)
    body = {
        "delegator_id": str(world.admin.user_id),
        "delegate_id": str(world.viewer.user_id),
        "permissions": ["grant:read"],
        **window(),
    }
    created = as_(world, "manager").post("/delegations", body)
    assert created.status_code == 201 and created.json()["status"] == "pending"
    path = f"/delegations/{created.json()['id']}/approve"
    assert code(as_(world, "manager").post(path)) == (403, "four_eyes")
    assert Delegation.objects.get().status == DelegationStatus.PENDING
    second = make_member(world.acme, "manager2@acme.test", roles=["manager"])
    response = Api(second.user, "acme").post(path)
    assert response.status_code == 200 and response.json()["status"] == "active"


def test_an_approver_must_hold_what_is_delegated(world):
    require_approval(world)
    created = as_(world, "admin").post(
        "/delegations",
        {"delegate_id": str(world.member.user_id), "role": "admin", **window()},
    )
    assert created.status_code == 201 and created.json()["status"] == "pending"
    path = f"/delegations/{created.json()['id']}/approve"
    assert code(as_(world, "manager").post(path)) == (403, "not_held")
    second_admin = make_member(world.acme, "admin2@acme.test", roles=["admin"])
    assert Api(second_admin.user, "acme").post(path).status_code == 200


def test_a_delegation_lasts_no_longer_than_what_the_delegator_holds(world):
    """Holding admin through a delegation until Friday lends nothing beyond Friday."""
    lent = delegation_create(
        delegator=world.admin,
        delegate=world.member,
        role=world.acme.roles.get(slug="admin"),
        ends_at=timezone.now() + timedelta(days=1),
    )
    assert lent.status == DelegationStatus.ACTIVE
    member = as_(world, "member")
    body = {"delegate_id": str(world.viewer.user_id), "permissions": ["tenant:update"]}
    assert code(member.post("/delegations", {**body, **window(days=3)})) == (403, "not_held")
    shorter = {**body, "ends_at": (timezone.now() + timedelta(hours=12)).isoformat()}
    assert member.post("/delegations", shorter).status_code == 201


# --- attack 2: managers act on administrators ---------------------------------------------------


def test_attack_manager_cannot_suspend_reactivate_or_edit_an_admin(world):
    manager, admin_id = as_(world, "manager"), world.admin.user_id
    second = make_member(world.acme, "admin2@acme.test", roles=["admin"])  # not the last admin
    assert code(manager.post(f"/users/{admin_id}/deactivate")) == (403, "target_outranks_you")
    assert Membership.objects.get(pk=world.admin.pk).status == MembershipStatus.ACTIVE
    response = manager.patch(f"/users/{admin_id}", {"job_title": "intern", "department": "QA"})
    assert code(response) == (403, "target_outranks_you")
    assert Membership.objects.get(pk=world.admin.pk).job_title != "intern"
    # suspended by another administrator: the manager cannot bring them back either
    assert Api(second.user, "acme").post(f"/users/{admin_id}/deactivate").status_code == 200
    assert code(manager.post(f"/users/{admin_id}/reactivate")) == (403, "target_outranks_you")
    assert Membership.objects.get(pk=world.admin.pk).status == MembershipStatus.SUSPENDED


def test_attack_manager_cannot_touch_an_admins_roles_or_overrides(world):
    manager, admin_id = as_(world, "manager"), world.admin.user_id
    response = manager.post(f"/users/{admin_id}/roles", {"roles": ["viewer"]})
    assert code(response) == (403, "target_outranks_you")
    assert code(manager.delete(f"/users/{admin_id}/roles/admin"))[0] == 403
    rules = [{"effect": "deny", "permission": "user:read", "scope": "all"}]
    response = manager.put(f"/users/{admin_id}/overrides", {"rules": rules})
    assert code(response) == (403, "target_outranks_you")
    assert set(
        RoleAssignment.objects.filter(membership=world.admin).values_list("role__slug", flat=True)
    ) == {"admin"}


def test_a_manager_still_manages_those_within_their_reach(world):
    manager, viewer_id = as_(world, "manager"), world.viewer.user_id
    assert manager.patch(f"/users/{viewer_id}", {"job_title": "analyst"}).status_code == 200
    assert manager.post(f"/users/{viewer_id}/deactivate").status_code == 200
    assert manager.post(f"/users/{viewer_id}/reactivate").status_code == 200
    assert manager.post(f"/users/{viewer_id}/roles", {"roles": ["member"]}).status_code == 200
    assert manager.delete(f"/users/{viewer_id}/roles/member").status_code == 204


def test_a_member_holding_one_permission_the_manager_lacks_outranks_the_manager(world):
    """Outranking is about permissions, not role names: one extra permission is enough."""
    special = make_role(world.acme, "auditor-plus", allow("tenant:update"))
    role_assign(membership=world.member, role=special)
    manager = as_(world, "manager")
    response = manager.post(f"/users/{world.member.user_id}/deactivate")
    assert code(response) == (403, "target_outranks_you")
    assert "tenant:update" in response.json()["detail"]


def test_a_restricted_admin_does_not_act_on_a_full_admin(world):
    """Someone holding *:* but denied tenant:update lacks what a full administrator holds."""
    limited = make_member(world.acme, "limited@acme.test", roles=["admin"])
    from tessera.access.services.overrides import overrides_set

    overrides_set(membership=limited, rules=[deny("tenant:update")])
    client = Api(limited.user, "acme")
    response = client.post(f"/users/{world.admin.user_id}/deactivate")
    assert code(response) == (403, "target_outranks_you")
    # but acts on a member who carries the same deny
    peer = make_member(world.acme, "peer@acme.test", roles=["admin"])
    overrides_set(membership=peer, rules=[deny("tenant:update")])
    assert client.post(f"/users/{peer.user_id}/deactivate").status_code == 200


def test_removing_someones_deny_is_a_widening_the_caller_must_hold(world):
    custom = make_role(world.acme, "doc-editor", allow("role:assign"), allow("user:read"))
    editor = make_member(world.acme, "editor@acme.test", roles=[])
    role_assign(membership=editor, role=custom)
    from tessera.access.services.overrides import overrides_set

    overrides_set(membership=world.viewer, rules=[allow("doc:read"), deny("doc:read")])
    # the viewer holds doc:read (denied) which the editor does not hold: they outrank the editor
    response = Api(editor.user, "acme").put(
        f"/users/{world.viewer.user_id}/overrides", {"rules": []}
    )
    assert code(response) == (403, "target_outranks_you")


@pytest.mark.parametrize("path", ["/users/{id}", "/users/{id}/erase"])
def test_removal_and_erasure_need_the_target_within(world, path):
    remover = make_role(world.acme, "remover", allow("user:delete"), allow("user:read"))
    holder = make_member(world.acme, "remover@acme.test", roles=[])
    role_assign(membership=holder, role=remover)
    client = Api(holder.user, "acme")
    target = path.format(id=world.manager.user_id)
    response = client.delete(target) if path == "/users/{id}" else client.post(target)
    assert code(response) == (403, "target_outranks_you")
    assert Membership.objects.filter(pk=world.manager.pk).exists()


def test_a_grant_lasts_no_longer_than_what_the_granter_holds(world):
    granter = make_role(world.acme, "granter", allow("grant:create"), allow("doc:read"))
    delegation_create(
        delegator=world.admin,
        delegate=world.viewer,
        role=granter,
        ends_at=timezone.now() + timedelta(days=1),
    )
    client = as_(world, "viewer")
    body = {
        "subject": {"user_id": str(world.member.user_id)},
        "permission": "doc:read",
        "resource_type": "doc",
        "resource_id": "1",
    }
    assert code(client.post("/grants", body)) == (403, "not_held")
    soon = (timezone.now() + timedelta(hours=6)).isoformat()
    assert client.post("/grants", {**body, "expires_at": soon}).status_code == 201
    assert Grant.objects.count() == 1


def test_a_key_for_a_service_account_that_outranks_the_caller_is_refused(world):
    created = as_(world, "admin").post(
        "/service-accounts", {"name": "deployer", "roles": ["admin"]}
    )
    assert created.status_code == 201, created.content
    body = {"name": "k", "scopes": ["tenant:read"], "service_account_id": created.json()["id"]}
    keys = make_role(
        world.acme,
        "key-admin",
        allow("api_key:create"),
        allow("api_key:revoke"),
        allow("tenant:read"),
    )
    key_admin = make_member(world.acme, "keys@acme.test", roles=[])
    role_assign(membership=key_admin, role=keys)
    response = Api(key_admin.user, "acme").post("/api-keys", body)
    assert code(response) == (403, "target_outranks_you")
    assert as_(world, "admin").post("/api-keys", body).status_code == 201


def test_the_admin_site_acts_with_the_platforms_authority(world, platform_admin):
    """A platform administrator who is also a plain viewer of the tenant still manages its
    administrators in the admin site; through the API the same person is only a viewer."""
    from django.test import Client

    from tessera.testing import admin_session_login
    from tests.admin_api.test_admin_ui import formset, member_change_data

    viewer_too = make_member(world.acme, roles=["viewer"], user=platform_admin)
    second = make_member(world.acme, "admin2@acme.test", roles=["admin"])
    client = Client()
    admin_session_login(client, platform_admin)
    data = member_change_data(second, status="suspended") | formset("role_assignments", [])
    response = client.post(f"/admin/tenancy/membership/{second.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert Membership.objects.get(pk=second.pk).status == MembershipStatus.SUSPENDED
    from tessera.access.escalation import TargetOutranks
    from tessera.administration.members import member_reactivate

    with pytest.raises(TargetOutranks):
        member_reactivate(membership=second, by=viewer_too)


def test_nobody_sheds_their_own_denies(world):
    """A manager restricted by an administrator (an override, a restricting role) cannot lift the
    restriction by replacing their own overrides or giving up the role."""
    from tessera.access.services.overrides import overrides_set

    overrides_set(membership=world.manager, rules=[deny("audit_log:read")])
    manager = as_(world, "manager")
    own = f"/users/{world.manager.user_id}"
    assert code(manager.put(f"{own}/overrides", {"rules": []})) == (403, "not_held")
    assert manager.get("/audit-events").status_code == 403
    # keeping the deny while changing the rest is fine
    rules = [{"effect": "deny", "permission": "audit_log:read", "scope": "all"}]
    assert manager.put(f"{own}/overrides", {"rules": rules}).status_code == 200
    overrides_set(membership=world.manager, rules=[])
    restricted = make_role(world.acme, "no-sessions", deny("session:revoke"))
    role_assign(membership=world.manager, role=restricted)
    assert code(manager.delete(f"{own}/roles/no-sessions")) == (403, "not_held")
    # an administrator lifts it
    assert as_(world, "admin").delete(f"{own}/roles/no-sessions").status_code == 204
