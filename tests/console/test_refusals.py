"""What a person may not do is not offered, and refused when the form is posted anyway: the
guard's permissions, the escalation rule, and another tenant's objects answering 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tessera.access.models import Delegation, Grant, RoleAssignment
from tessera.access.selectors import role_get
from tessera.access.services.delegations import delegation_create
from tessera.access.services.grants import grant_create
from tessera.administration.members import member_create
from tessera.audit.models import AuditEvent
from tessera.tenancy.models import Invitation, Membership, MembershipStatus
from tests.console.conftest import sign_in

pytestmark = pytest.mark.django_db


def _events() -> int:
    return AuditEvent.objects.count()


def test_a_manager_is_not_offered_the_admin_role_and_cannot_force_it(as_manager, acme):
    target = acme["member"]
    page = f"/console/members/{target.user_id}/"
    html = as_manager.get(page).content.decode()
    assert '<option value="viewer">' in html  # a role the manager holds entirely
    assert '<option value="admin">' not in html
    before = _events()
    answer = as_manager.post(f"{page}roles", {"role": "admin"})
    assert answer.status_code == 403
    assert 'data-code="not_held"' in answer.content.decode()
    assert not RoleAssignment.objects.filter(membership=target, role__slug="admin").exists()
    assert _events() == before


def test_a_manager_is_offered_nothing_on_an_administrator_and_every_forced_action_fails(
    as_manager, acme
):
    admin = acme["admin"]
    page = f"/console/members/{admin.user_id}/"
    html = as_manager.get(page).content.decode()
    for offered in ("Suspend membership", "Reset second factor", "Give role", "End every"):
        assert offered not in html
    assert "holds permissions you do not hold yourself" in html
    sign_in_session = sign_in(Client(), admin)
    before = _events()
    for action, data in (
        ("suspend", {}),
        ("mfa/reset", {}),
        ("roles/admin/remove", {}),
        ("sessions/end", {}),
        (f"sessions/{sign_in_session.pk}/end", {}),
    ):
        answer = as_manager.post(f"{page}{action}", data)
        assert answer.status_code == 403, action
        code = re.search(r'data-code="([a-z_]+)"', answer.content.decode()).group(1)
        assert code in ("target_outranks_you", "not_held"), action
    admin.refresh_from_db()
    assert admin.status == MembershipStatus.ACTIVE
    assert RoleAssignment.objects.filter(membership=admin, role__slug="admin").exists()
    sign_in_session.refresh_from_db()
    assert sign_in_session.revoked_at is None
    assert _events() == before


def test_a_manager_cannot_change_settings_or_export_the_audit_trail(as_manager, acme):
    tenant = acme["tenant"]
    before = dict(tenant.settings or {})
    answer = as_manager.post("/console/settings/", {"lockout__max_failures": "99"})
    assert answer.status_code == 403
    tenant.refresh_from_db()
    assert (tenant.settings or {}) == before
    assert as_manager.get("/console/audit/export", {"format": "csv"}).status_code == 403


def test_an_administrator_cannot_suspend_themselves_and_is_not_offered_it(as_admin, acme):
    page = f"/console/members/{acme['admin'].user_id}/"
    assert "Suspend membership" not in as_admin.get(page).content.decode()
    answer = as_admin.post(f"{page}suspend")
    assert answer.status_code == 409
    acme["admin"].refresh_from_db()
    assert acme["admin"].status == MembershipStatus.ACTIVE


def test_another_tenants_member_answers_404_to_read_and_to_every_action(as_admin, globex):
    stranger = globex["admin"]
    page = f"/console/members/{stranger.user_id}/"
    assert as_admin.get(page).status_code == 404
    for action in ("suspend", "reactivate", "mfa/reset", "sessions/end", "roles/admin/remove"):
        assert as_admin.post(f"{page}{action}").status_code == 404, action
    assert as_admin.post(f"{page}roles", {"role": "viewer"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == MembershipStatus.ACTIVE
    assert as_admin.get("/console/members/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_another_tenants_invitation_grant_and_delegation_answer_404(as_admin, acme, globex):
    tenant = globex["tenant"]
    created = member_create(tenant=tenant, data={"email": "new@globex.test"}, by=None)
    invitation = Invitation.objects.get(membership=created.membership)
    grant = grant_create(
        tenant=tenant,
        permission="user:read",
        resource_type="user",
        resource_id="x1",
        role=role_get(tenant=tenant, slug="viewer"),
    )
    other = Membership.objects.get(tenant=tenant, user__email="gia@globex.test")
    delegation = delegation_create(
        delegator=other,
        delegate=created.membership,
        ends_at=timezone.now() + timedelta(days=1),
        permissions=["user:read"],
    )
    before = _events()
    assert as_admin.post(f"/console/invitations/{invitation.pk}/revoke").status_code == 404
    assert as_admin.post(f"/console/invitations/{invitation.pk}/resend").status_code == 404
    assert as_admin.post(f"/console/grants/{grant.pk}/revoke").status_code == 404
    assert as_admin.post(f"/console/delegations/{delegation.pk}/revoke").status_code == 404
    assert as_admin.post(f"/console/delegations/{delegation.pk}/approve").status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    assert Grant.objects.filter(pk=grant.pk).exists()
    assert Delegation.objects.get(pk=delegation.pk).revoked_at is None
    assert _events() == before
    assert "new@globex.test" not in as_admin.get("/console/invitations/").content.decode()
    assert "x1" not in as_admin.get("/console/grants/").content.decode()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/console/members/", {"status": "bogus", "role": "nope", "q": "x" * 500}),
        ("/console/members/", {"cursor": "garbage"}),
        ("/console/audit/", {"since": "yesterday", "actor_id": "not-a-uuid"}),
        ("/console/audit/", {"cursor": "garbage"}),
        ("/console/audit/export", {"format": "xml"}),
        ("/console/delegations/", {"status": "weird", "cursor": "garbage"}),
        ("/console/grants/", {"resource_id": "r" * 500, "cursor": "garbage"}),
        ("/console/invitations/", {"cursor": "garbage"}),
    ],
)
def test_odd_queries_get_a_page_never_a_server_error(as_admin, path, params):
    answer = as_admin.get(path, params)
    assert answer.status_code < 500
    assert answer["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        ("roles", {"role": "no-such-role"}),
        ("roles", {}),
        ("attributes", {"clearance_level": "lots"}),
        ("sessions/00000000-0000-0000-0000-000000000000/end", {}),
        ("roles/no-such-role/remove", {}),
    ],
)
def test_odd_member_forms_are_refused_with_a_page(as_admin, acme, suffix, data):
    before = _events()
    answer = as_admin.post(f"/console/members/{acme['member'].user_id}/{suffix}", data)
    assert 400 <= answer.status_code < 500
    assert _events() == before
