"""Members in the console: the list, inviting, and acting on one member — through the same
services as the API, so the same audit events and the same refusals."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tessera.access.models import RoleAssignment
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import Session
from tessera.tenancy.models import Invitation, Membership, MembershipStatus
from tests.console.conftest import sign_in
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _next_link(html: str) -> str | None:
    found = re.search(r'href="\?([^"]+)" rel="next"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_member_list_searches_filters_and_pages_by_keyset(as_admin, acme):
    tenant = acme["tenant"]
    for n in range(30):
        make_member(tenant, f"lab{n:02d}@acme.test", roles=["viewer"], department="lab")
    first = as_admin.get("/console/members/", {"department": "lab"}).content.decode()
    assert first.count("@acme.test</a>") == 25
    link = _next_link(first)
    assert link is not None and "department=lab" in link
    second = as_admin.get(f"/console/members/?{link}").content.decode()
    assert second.count("@acme.test</a>") == 5
    assert _next_link(second) is None
    shown = set(re.findall(r"(lab\d\d)@", first + second))
    assert len(shown) == 30  # every member once, none twice
    found = as_admin.get("/console/members/", {"q": "lab07"}).content.decode()
    assert "lab07@acme.test" in found and "lab08@acme.test" not in found
    admins = as_admin.get("/console/members/", {"role": "admin"}).content.decode()
    assert "ada@acme.test" in admins and "max@acme.test" not in admins


def test_a_page_link_the_console_did_not_issue_is_refused(as_admin):
    answer = as_admin.get("/console/members/", {"cursor": "eyJjIjoiMjAyMCJ9"})
    assert answer.status_code == 400
    assert "not valid" in answer.content.decode()


def test_inviting_a_new_person_creates_the_member_mails_the_link_and_audits(
    as_admin, acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = as_admin.post(
            "/console/members/invite/",
            {"email": "nia@acme.test", "first_name": "Nia", "roles": ["viewer"]},
        )
    assert answer.status_code == 303
    membership = Membership.objects.get(tenant=acme["tenant"], user__email="nia@acme.test")
    assert answer["Location"] == f"/console/members/{membership.user_id}/"
    assert Invitation.objects.filter(membership=membership, accepted_at__isnull=True).exists()
    assert [m.to for m in mail.outbox] == [["nia@acme.test"]]
    assert "/invitations/accept/?token=" in mail.outbox[0].body
    assert RoleAssignment.objects.filter(membership=membership, role__slug="viewer").exists()
    created = AuditEvent.objects.filter(type=AuditEventType.USER_CREATED).latest("seq")
    assert created.actor_user_id == acme["admin"].user_id
    page = as_admin.get(answer["Location"]).content.decode()
    assert "Invitation sent to nia@acme.test." in page


def test_an_invitation_with_a_bad_address_or_a_member_again_is_shown_not_stored(as_admin, acme):
    answer = as_admin.post("/console/members/invite/", {"email": "not-an-address"})
    assert answer.status_code == 422
    assert "Enter a valid email address." in answer.content.decode()
    answer = as_admin.post("/console/members/invite/", {"email": "mo@acme.test"})
    assert answer.status_code == 409
    assert Membership.objects.filter(tenant=acme["tenant"]).count() == 4


def test_forms_without_the_csrf_token_are_refused(acme):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    sign_in(client, acme["admin"])
    answer = client.post("/console/members/invite/", {"email": "nia@acme.test"})
    assert answer.status_code == 403
    target = acme["member"]
    answer = client.post(f"/console/members/{target.user_id}/suspend")
    assert answer.status_code == 403
    target.refresh_from_db()
    assert target.status == MembershipStatus.ACTIVE
    assert not Membership.objects.filter(user__email="nia@acme.test").exists()


def test_an_administrator_gives_a_role_suspends_reactivates_and_ends_sessions(as_admin, acme):
    target = acme["member"]
    page = f"/console/members/{target.user_id}/"
    as_admin.post(f"{page}roles", {"role": "manager"})
    assert RoleAssignment.objects.filter(membership=target, role__slug="manager").exists()
    as_admin.post(f"{page}roles/manager/remove")
    assert not RoleAssignment.objects.filter(membership=target, role__slug="manager").exists()

    from django.test import Client

    theirs = sign_in(Client(), target)
    html = as_admin.get(page).content.decode()
    assert f'data-session="{theirs.pk}"' in html
    answer = as_admin.post(f"{page}sessions/{theirs.pk}/end")
    assert answer.status_code == 303
    assert Session.objects.get(pk=theirs.pk).revoked_at is not None

    assert as_admin.post(f"{page}suspend").status_code == 303
    target.refresh_from_db()
    assert target.status == MembershipStatus.SUSPENDED
    assert as_admin.post(f"{page}reactivate").status_code == 303
    target.refresh_from_db()
    assert target.status == MembershipStatus.ACTIVE
    kinds = list(
        AuditEvent.objects.filter(actor_user_id=acme["admin"].user_id)
        .order_by("seq")
        .values_list("type", flat=True)
    )
    for kind in ("ROLE_ASSIGNED", "ROLE_REMOVED", "SESSION_REVOKED", "USER_DEACTIVATED"):
        assert kind in kinds


def test_the_action_urls_answer_only_post(as_admin, acme):
    answer = as_admin.get(f"/console/members/{acme['member'].user_id}/suspend")
    assert answer.status_code == 405


def test_a_suspension_in_the_console_stops_the_members_next_api_request(as_admin, acme):
    from tests.api.conftest import Api

    theirs = Api(acme["member"].user, "acme")
    assert theirs.get("/users").status_code == 200
    as_admin.post(f"/console/members/{acme['member'].user_id}/suspend")
    assert theirs.get("/users").status_code == 401


def test_an_administrator_removes_a_member_and_a_manager_may_not(client, acme):
    target = acme["member"]
    page = f"/console/members/{target.user_id}/"
    sign_in(client, acme["manager"])  # no user:delete
    assert "Remove from the tenant" not in client.get(page).content.decode()
    assert client.post(f"{page}remove").status_code == 403
    assert Membership.objects.filter(pk=target.pk).exists()
    sign_in(client, acme["admin"])
    assert "Remove from the tenant" in client.get(page).content.decode()
    answer = client.post(f"{page}remove")
    assert answer.status_code == 303 and answer["Location"] == "/console/members/"
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert AuditEvent.objects.filter(type=AuditEventType.MEMBERSHIP_REMOVED).exists()
    assert client.get(page).status_code == 404


def test_membership_attributes_are_set_by_others_never_by_oneself(as_admin, acme):
    target = acme["member"]
    page = f"/console/members/{target.user_id}/"
    answer = as_admin.post(
        f"{page}attributes", {"department": "qa", "job_title": "Analyst", "clearance_level": "3"}
    )
    assert answer.status_code == 303
    target.refresh_from_db()
    assert (target.department, target.job_title, target.clearance_level) == ("qa", "Analyst", 3)
    event = AuditEvent.objects.filter(type=AuditEventType.PROFILE_UPDATE).latest("seq")
    assert event.changes["after"]["department"] == "qa"
    bad = as_admin.post(f"{page}attributes", {"clearance_level": "-1"})
    assert bad.status_code == 422
    own = f"/console/members/{acme['admin'].user_id}/"
    assert "Save attributes" not in as_admin.get(own).content.decode()
    assert as_admin.post(f"{own}attributes", {"department": "boss"}).status_code == 403
    acme["admin"].refresh_from_db()
    assert acme["admin"].department == ""
