"""Invitations, delegations, grants, settings and the audit trail in the console."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tessera.access.models import Delegation, DelegationStatus, Grant
from tessera.access.services.delegations import delegation_create
from tessera.administration.members import member_create
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.tenancy.models import Invitation
from tessera.tenancy.tenant_settings import parse_tenant_settings
from tests.console.conftest import sign_in

pytestmark = pytest.mark.django_db


def _settings_form(tenant) -> dict:
    current = parse_tenant_settings(tenant.settings).model_dump()
    data = {}
    for section in ("password", "lockout", "sessions", "mfa", "delegation", "invitations"):
        for name, value in current[section].items():
            if isinstance(value, bool):
                if value:
                    data[f"{section}__{name}"] = "on"
            elif isinstance(value, list):
                data[f"{section}__{name}"] = value
            else:
                data[f"{section}__{name}"] = str(value)
    return data


def test_an_administrator_changes_the_lockout_policy_and_it_is_audited(as_admin, acme):
    tenant = acme["tenant"]
    form = _settings_form(tenant)
    form["lockout__max_failures"] = "7"
    form["delegation__require_approval"] = "on"
    answer = as_admin.post("/console/settings/", form)
    assert answer.status_code == 303
    tenant.refresh_from_db()
    assert tenant.settings["lockout"]["max_failures"] == 7
    assert tenant.settings["delegation"]["require_approval"] is True
    event = AuditEvent.objects.filter(type=AuditEventType.TENANT_SETTINGS_CHANGED).latest("seq")
    assert event.changes["after"]["lockout"]["max_failures"] == 7
    assert event.actor_user_id == acme["admin"].user_id
    assert 'value="7"' in as_admin.get("/console/settings/").content.decode()


def test_settings_out_of_bounds_are_shown_next_to_the_field_and_not_saved(as_admin, acme):
    tenant = acme["tenant"]
    before = parse_tenant_settings(tenant.settings).model_dump()
    form = _settings_form(tenant)
    form["password__min_length"] = "3"
    form["password__max_length"] = "64"
    answer = as_admin.post("/console/settings/", form)
    assert answer.status_code == 422
    assert "greater than or equal to 8" in answer.content.decode()
    form["password__min_length"] = "100"  # within its bounds, but above max_length
    answer = as_admin.post("/console/settings/", form)
    assert answer.status_code == 422
    assert "min_length cannot exceed max_length" in answer.content.decode()
    tenant.refresh_from_db()
    assert parse_tenant_settings(tenant.settings).model_dump() == before


def test_invitations_are_listed_resent_and_withdrawn(
    as_admin, acme, django_capture_on_commit_callbacks
):
    from django.core import mail

    created = member_create(
        tenant=acme["tenant"], data={"email": "ian@acme.test"}, by=acme["admin"]
    )
    invitation = Invitation.objects.get(membership=created.membership)
    html = as_admin.get("/console/invitations/").content.decode()
    assert "ian@acme.test" in html
    member_page = as_admin.get(f"/console/members/{created.membership.user_id}/").content.decode()
    assert f"/console/invitations/{invitation.pk}/resend" in member_page
    with django_capture_on_commit_callbacks(execute=True):
        assert as_admin.post(f"/console/invitations/{invitation.pk}/resend").status_code == 303
    assert [m.to for m in mail.outbox] == [["ian@acme.test"]]
    invitation.refresh_from_db()
    assert invitation.send_count == 2
    assert as_admin.post(f"/console/invitations/{invitation.pk}/revoke").status_code == 303
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    listed = as_admin.get("/console/invitations/").content.decode()
    assert f"/console/invitations/{invitation.pk}/" not in listed


def test_a_pending_delegation_is_approved_by_someone_else_and_revoked(client, acme):
    tenant = acme["tenant"]
    tenant.settings = {**(tenant.settings or {}), "delegation": {"require_approval": True}}
    tenant.save(update_fields=["settings"])
    delegation = delegation_create(
        delegator=acme["manager"],
        delegate=acme["member"],
        ends_at=timezone.now() + timedelta(days=2),
        permissions=["grant:read"],
        created_by=acme["manager"],
    )
    assert delegation.status == DelegationStatus.PENDING
    sign_in(client, acme["manager"])  # a party: may revoke, not approve
    html = client.get("/console/delegations/").content.decode()
    assert f"/console/delegations/{delegation.pk}/approve" not in html
    assert client.post(f"/console/delegations/{delegation.pk}/approve").status_code == 403
    sign_in(client, acme["admin"])
    html = client.get("/console/delegations/", {"status": "pending"}).content.decode()
    assert f"/console/delegations/{delegation.pk}/approve" in html
    assert client.post(f"/console/delegations/{delegation.pk}/approve").status_code == 303
    assert Delegation.objects.get(pk=delegation.pk).status == DelegationStatus.ACTIVE
    assert client.post(f"/console/delegations/{delegation.pk}/revoke").status_code == 303
    assert Delegation.objects.get(pk=delegation.pk).status == DelegationStatus.REVOKED


def test_a_grant_is_given_to_a_member_and_revoked(as_admin, acme):
    answer = as_admin.post(
        "/console/grants/",
        {
            "email": "mo@acme.test",
            "permission": "user:update",
            "resource_type": "user",
            "resource_id": str(acme["viewer"].user_id),
        },
    )
    assert answer.status_code == 303
    grant = Grant.objects.get(membership=acme["member"])
    assert "user:update" in as_admin.get("/console/grants/").content.decode()
    assert as_admin.post(f"/console/grants/{grant.pk}/revoke").status_code == 303
    assert not Grant.objects.filter(pk=grant.pk).exists()
    types = set(AuditEvent.objects.values_list("type", flat=True))
    assert {"GRANT_CREATED", "GRANT_REVOKED"} <= types


def test_a_grant_beyond_what_the_manager_holds_is_refused(as_manager, acme):
    answer = as_manager.post(
        "/console/grants/",
        {
            "email": "mo@acme.test",
            "permission": "tenant:update",
            "resource_type": "tenant",
            "resource_id": str(acme["tenant"].pk),
        },
    )
    assert answer.status_code == 403
    assert not Grant.objects.exists()


def test_the_audit_trail_filters_verifies_and_exports(as_admin, acme):
    as_admin.post(f"/console/members/{acme['member'].user_id}/suspend")
    html = as_admin.get("/console/audit/", {"type": "USER_DEACTIVATED"}).content.decode()
    assert 'data-type="USER_DEACTIVATED"' in html
    assert 'data-type="LOGIN"' not in html
    assert "ada@acme.test" in html  # the actor, by email
    assert as_admin.get("/console/audit/", {"type": "NOPE"}).status_code == 422
    verified = as_admin.post("/console/audit/verify").content.decode()
    assert 'data-valid="true"' in verified
    export = as_admin.get("/console/audit/export", {"format": "jsonl", "type": "USER_DEACTIVATED"})
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="audit-events.jsonl"'
    rows = [json.loads(line) for line in b"".join(export.streaming_content).splitlines()]
    assert [r["type"] for r in rows] == ["USER_DEACTIVATED"]
    exported = AuditEvent.objects.filter(type=AuditEventType.DATA_EXPORTED).latest("seq")
    assert exported.changes["format"] == "jsonl"


def test_the_audit_trail_pages_by_keyset(as_admin, acme):
    for _ in range(14):  # two events each: a session and its end
        as_admin.post(f"/console/members/{acme['member'].user_id}/suspend")
        as_admin.post(f"/console/members/{acme['member'].user_id}/reactivate")
    first = as_admin.get("/console/audit/").content.decode()
    assert first.count("data-type=") == 25
    assert 'rel="next"' in first


def test_a_lost_second_factor_is_reset_by_an_administrator(as_admin, acme):
    import pyotp

    from tessera.identity.mfa import mfa_enabled, totp_confirm, totp_setup

    person = acme["member"].user
    setup = totp_setup(user=person)
    totp_confirm(user=person, code=pyotp.TOTP(setup.secret).now())
    assert mfa_enabled(user_id=person.pk)
    page = f"/console/members/{person.pk}/"
    assert "Reset second factor" in as_admin.get(page).content.decode()
    assert as_admin.post(f"{page}mfa/reset").status_code == 303
    assert not mfa_enabled(user_id=person.pk)
    assert AuditEvent.objects.filter(type=AuditEventType.MFA_DISABLED).exists()


def test_grants_are_filtered_and_paged_keeping_the_filters(as_admin, acme):
    from tessera.access.services.grants import grant_create

    for n in range(27):
        grant_create(
            tenant=acme["tenant"],
            permission="user:read",
            resource_type="report",
            resource_id=f"r{n:02d}",
            membership=acme["member"],
        )
    grant_create(
        tenant=acme["tenant"],
        permission="user:read",
        resource_type="batch",
        resource_id="b1",
        membership=acme["member"],
    )
    first = as_admin.get("/console/grants/", {"resource_type": "report"}).content.decode()
    assert first.count("report r") == 25 and "batch b1" not in first
    link = re.search(r'href="\?([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "resource_type=report" in link
    second = as_admin.get(f"/console/grants/?{link}").content.decode()
    assert second.count("report r") == 2
    assert 'rel="next"' not in second
