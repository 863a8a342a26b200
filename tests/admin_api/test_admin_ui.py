"""The Django admin writes through the services: versions bump, audit events, guard rails."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client

from tessera.access.models import Grant, Role, RoleAssignment
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import Session
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.testing import admin_session_login
from tests.admin_api.test_revocation import make_session
from tests.factories import make_member


@pytest.fixture
def admin_client(platform_admin):
    client = Client()
    admin_session_login(client, platform_admin)
    return client


def events(kind):
    return AuditEvent.objects.filter(type=kind).count()


def formset(prefix, rows, initial=0):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def test_creating_a_tenant_gives_it_the_builtin_roles(admin_client, db):
    response = admin_client.post(
        "/admin/tenancy/tenant/add/",
        {"slug": "umbrella", "name": "Umbrella", "is_active": "on", "settings": "{}"}
        | formset("memberships", []),
    )
    assert response.status_code == 302, response.content[:2000]
    tenant = Tenant.objects.get(slug="umbrella")
    assert set(tenant.roles.values_list("slug", flat=True)) == {
        "admin",
        "manager",
        "member",
        "viewer",
    }
    assert events(AuditEventType.TENANT_CREATED) == 1


def test_adding_a_member_invites_and_assigns_roles(
    admin_client, world, django_capture_on_commit_callbacks
):
    viewer = Role.objects.get(tenant=world.acme, slug="viewer")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/tenancy/membership/add/",
            {"email": "hired@acme.test", "tenant": str(world.acme.pk), "roles": [str(viewer.pk)]},
        )
    assert response.status_code == 302, response.content[:3000]
    membership = Membership.objects.get(user__email="hired@acme.test")
    assert [a.role.slug for a in membership.role_assignments.all()] == ["viewer"]
    assert mail.outbox[0].to == ["hired@acme.test"]
    assert events(AuditEventType.USER_CREATED) == 1


def test_a_role_of_another_tenant_is_refused_on_the_add_form(admin_client, world):
    foreign = Role.objects.get(tenant=world.globex, slug="viewer")
    response = admin_client.post(
        "/admin/tenancy/membership/add/",
        {"email": "x@acme.test", "tenant": str(world.acme.pk), "roles": [str(foreign.pk)]},
    )
    assert response.status_code == 200 and b"member&#x27;s tenant" in response.content
    assert not Membership.objects.filter(user__email="x@acme.test").exists()


def member_change_data(membership, **changes):
    data = {
        "status": membership.status,
        "department": membership.department,
        "job_title": membership.job_title,
        "employee_id": membership.employee_id or "",
        "manager": "",
        "cost_center": "",
        "clearance_level": "0",
        "attributes": "{}",
        "gdpr_consent_at_0": "",
        "gdpr_consent_at_1": "",
    }
    data.update(changes)
    return data


def test_giving_a_role_on_the_membership_page_goes_through_role_assign(admin_client, world):
    manager = Role.objects.get(tenant=world.acme, slug="manager")
    version = Membership.objects.get(pk=world.member.pk).version
    existing = RoleAssignment.objects.get(membership=world.member)
    data = member_change_data(world.member) | formset(
        "role_assignments",
        [
            {
                "id": str(existing.pk),
                "membership": str(world.member.pk),
                "role": str(existing.role_id),
            },
            {"membership": str(world.member.pk), "role": str(manager.pk)},
        ],
        initial=1,
    )
    response = admin_client.post(f"/admin/tenancy/membership/{world.member.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]
    slugs = set(
        RoleAssignment.objects.filter(membership=world.member).values_list("role__slug", flat=True)
    )
    assert slugs == {"member", "manager"}
    assert Membership.objects.get(pk=world.member.pk).version > version
    assert events(AuditEventType.ROLE_ASSIGNED) == 1


def test_suspending_on_the_membership_page_revokes_sessions(admin_client, world):
    session = make_session(world.viewer)
    data = member_change_data(world.viewer, status="suspended") | formset("role_assignments", [])
    response = admin_client.post(f"/admin/tenancy/membership/{world.viewer.pk}/change/", data)
    assert response.status_code == 302
    assert Membership.objects.get(pk=world.viewer.pk).status == MembershipStatus.SUSPENDED
    assert Session.objects.get(pk=session.pk).revoked_at is not None
    assert events(AuditEventType.USER_DEACTIVATED) == 1


def test_a_guard_rail_in_the_admin_is_a_message_not_a_500(admin_client, world):
    data = member_change_data(world.admin, status="suspended") | formset("role_assignments", [])
    response = admin_client.post(
        f"/admin/tenancy/membership/{world.admin.pk}/change/", data, follow=True
    )
    assert response.status_code == 200
    assert b"last active administrator" in response.content
    assert Membership.objects.get(pk=world.admin.pk).status == MembershipStatus.ACTIVE


def test_editing_a_roles_rules_bumps_the_policy_and_is_audited(admin_client, world):
    role = Role.objects.get(tenant=world.acme, slug="viewer")
    rules = list(role.rules.order_by("position"))
    before = Tenant.objects.get(pk=world.acme.pk).policy_version
    rows = [
        {
            "id": str(r.pk),
            "role": str(role.pk),
            "position": str(r.position),
            "effect": r.effect,
            "permission": r.permission,
            "scope": r.scope,
            "condition": "null",
            "fields": "{}",
        }
        for r in rules
    ]
    rows[0]["DELETE"] = "on"
    rows.append(
        {
            "role": str(role.pk),
            "position": "9",
            "effect": "allow",
            "permission": "grant:read",
            "scope": "all",
            "condition": "null",
            "fields": "{}",
        }
    )
    data = {
        "name": role.name,
        "description": role.description,
        "max_members": "",
        "ui_config": "{}",
    }
    data |= formset("rules", rows, initial=len(rules))
    response = admin_client.post(f"/admin/access/role/{role.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]
    perms = list(role.rules.order_by("position").values_list("permission", flat=True))
    assert perms == [r.permission for r in rules[1:]] + ["grant:read"]
    assert Tenant.objects.get(pk=world.acme.pk).policy_version > before
    assert events(AuditEventType.ROLE_UPDATED) == 1


def test_a_bad_condition_is_a_form_error(admin_client, world):
    role = Role.objects.get(tenant=world.acme, slug="member")
    data = {"name": role.name, "description": "", "max_members": "", "ui_config": "{}"}
    data |= formset(
        "rules",
        [
            {
                "role": str(role.pk),
                "position": "0",
                "effect": "allow",
                "permission": "doc:read",
                "scope": "all",
                "condition": json.dumps({"no_such_op": [1]}),
                "fields": "{}",
            }
        ],
    )
    response = admin_client.post(f"/admin/access/role/{role.pk}/change/", data)
    assert response.status_code == 200 and b"no_such_op" in response.content
    assert events(AuditEventType.ROLE_UPDATED) == 0


def test_the_matrix_and_the_role_pages_render(admin_client, world):
    response = admin_client.get("/admin/access/role/matrix/?tenant=acme")
    assert response.status_code == 200
    assert b"permission-matrix" in response.content and b"user:read" in response.content
    viewer = Role.objects.get(tenant=world.acme, slug="viewer")
    page = admin_client.get(f"/admin/access/role/{viewer.pk}/change/")
    assert page.status_code == 200 and b"tessera-matrix" in page.content
    for url in (
        "/admin/access/role/",
        "/admin/access/roleassignment/",
        "/admin/access/grant/",
        "/admin/access/delegation/",
        "/admin/access/permission/",
        "/admin/authn/session/",
        "/admin/tenancy/tenant/",
        f"/admin/tenancy/tenant/{world.acme.pk}/change/",
        "/admin/tenancy/membership/",
        "/admin/tenancy/membership/add/",
        "/admin/identity/user/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_revoking_sessions_from_the_admin(admin_client, world):
    session = make_session(world.viewer)
    response = admin_client.post(
        "/admin/authn/session/",
        {"action": "revoke_sessions", "_selected_action": [str(session.pk)]},
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.revoked_at is not None and session.revoked_reason == "admin_revoked"
    assert events(AuditEventType.SESSION_REVOKED) == 1


def test_grants_through_the_admin_are_audited(admin_client, world):
    response = admin_client.post(
        "/admin/access/grant/add/",
        {
            "tenant": str(world.acme.pk),
            "membership": str(world.viewer.pk),
            "permission": "document:read",
            "resource_type": "document",
            "resource_id": "7",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    grant = Grant.objects.get()
    response = admin_client.post(f"/admin/access/grant/{grant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Grant.objects.exists()
    assert events(AuditEventType.GRANT_CREATED) == events(AuditEventType.GRANT_REVOKED) == 1


def test_deactivating_a_person_ends_their_sessions(admin_client, world):
    session = make_session(world.member)
    user = world.member.user
    response = admin_client.post(
        f"/admin/identity/user/{user.pk}/change/",
        {
            "email": user.email,
            "first_name": "",
            "last_name": "",
            "phone": "",
            "timezone": "UTC",
            "language": "en",
            "avatar_url": "",
            "metadata": "{}",
            "is_platform_admin": "",
            "is_service_account": "",
            "must_change_password": "",
            **formset("memberships", [], initial=0),
        },
    )
    assert response.status_code == 302, response.content[:3000]
    assert Session.objects.get(pk=session.pk).revoked_at is not None
    assert events(AuditEventType.USER_DEACTIVATED) == 1


def test_removing_a_member_in_the_admin_uses_member_remove(admin_client, world):
    extra = make_member(world.acme, "leaver@acme.test")
    response = admin_client.post(f"/admin/tenancy/membership/{extra.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert events(AuditEventType.MEMBERSHIP_REMOVED) == 1


def test_invited_members_show_as_invited_and_can_be_resent_or_revoked(
    admin_client, world, django_capture_on_commit_callbacks
):
    from tessera.tenancy.models import Invitation

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/tenancy/membership/add/",
            {"email": world.outsider.user.email, "tenant": str(world.acme.pk)},
        )
    assert response.status_code == 302
    invited = Membership.objects.get(user=world.outsider.user, tenant=world.acme)
    assert invited.status == MembershipStatus.INVITED
    listing = admin_client.get("/admin/tenancy/membership/?status=invited")
    assert b"pending until" in listing.content and b"Invited" in listing.content
    first_hash = Invitation.objects.get(membership=invited).token_hash
    with django_capture_on_commit_callbacks(execute=True):
        resent = admin_client.post(
            "/admin/tenancy/membership/",
            {"action": "resend_invitations", "_selected_action": [str(invited.pk)]},
        )
    assert resent.status_code == 302
    assert Invitation.objects.get(membership=invited).token_hash != first_hash
    assert len([m for m in mail.outbox if m.to == [world.outsider.user.email]]) == 2
    revoked = admin_client.post(
        "/admin/tenancy/membership/",
        {"action": "revoke_invitations", "_selected_action": [str(invited.pk)]},
    )
    assert revoked.status_code == 302
    assert not Membership.objects.filter(pk=invited.pk).exists()
    assert events(AuditEventType.INVITATION_REVOKED) == 1
