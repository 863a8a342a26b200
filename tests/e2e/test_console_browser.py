"""The console in Chromium, as an administrator uses it: invite a member, give a role, end a
session, read the audit trail — and axe-core on every console page (0 serious violations).

`TESSERA_SCREENSHOTS=1` saves each page to docs/screenshots/console-*.png (`make screenshots`).
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import assert_no_serious_axe_violations, needs_chromium, screenshot, sign_in
from tests.factories import make_member, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.fixture
def acme():
    tenant = make_tenant("acme")
    return {
        "tenant": tenant,
        "admin": make_member(tenant, "ada@acme.test", roles=["admin"]),
        "member": make_member(tenant, "mo@acme.test", roles=["member"], department="lab"),
    }


def _check(page, name: str) -> None:
    assert_no_serious_axe_violations(page)
    assert page.problems == [], page.problems
    screenshot(page, f"console-{name}")


def test_an_administrator_invites_gives_a_role_ends_a_session_and_reads_the_audit_trail(
    live_server, web_page, acme
):
    from tessera.access.models import RoleAssignment
    from tessera.authn.models import Session
    from tessera.tenancy.models import Invitation, Membership

    page, base = web_page, live_server.url
    sign_in(page, live_server, acme["member"].user, tenant="acme")  # the member's own session
    theirs = Session.objects.filter(user=acme["member"].user).latest("created_at")
    page.context.clear_cookies()
    sign_in(page, live_server, acme["admin"].user, tenant="acme")

    # invite a member
    page.goto(f"{base}/console/members/")
    page.get_by_role("link", name="Invite a member").click()
    page.get_by_label("Email address").fill("nia@acme.test")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Viewer (viewer)").check()
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text("Invitation sent to nia@acme.test.").wait_for()
    invited = Membership.objects.get(user__email="nia@acme.test")
    assert Invitation.objects.filter(membership=invited).exists()
    page.goto(f"{base}/console/invitations/")
    page.get_by_role("cell", name="nia@acme.test", exact=True).wait_for()

    # give a role
    page.goto(f"{base}/console/members/?q=mo%40acme")
    page.get_by_role("link", name="mo@acme.test").click()
    page.get_by_label("Give a role").select_option("manager")
    page.get_by_role("button", name="Give role").click()
    page.get_by_text("Role given: manager.").wait_for()
    assert RoleAssignment.objects.filter(membership=acme["member"], role__slug="manager").exists()

    # end a session
    row = page.locator(f'tr[data-session="{theirs.pk}"]')
    row.get_by_role("button").click()
    page.get_by_text("Session ended.").wait_for()
    assert page.locator(f'tr[data-session="{theirs.pk}"]').count() == 0
    assert Session.objects.get(pk=theirs.pk).revoked_at is not None

    # read the audit trail
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Audit trail"
    ).click()
    page.get_by_label("Event type").select_option("SESSION_REVOKED")
    page.get_by_role("button", name="Filter").click()
    events = page.locator("tbody tr[data-type]")
    assert events.count() == 1
    assert "ada@acme.test" in events.first.inner_text()
    page.get_by_role("button", name="Verify the hash chain").click()
    page.get_by_text("The chain is intact").wait_for()
    assert page.problems == [], page.problems


def test_every_console_page_passes_axe_core(live_server, web_page, acme):
    from datetime import timedelta

    from django.utils import timezone

    from tessera.access.services.delegations import delegation_create
    from tessera.access.services.grants import grant_create
    from tessera.access.services.roles import role_create
    from tessera.administration.members import member_create

    tenant = acme["tenant"]
    role_create(  # a role with a parent: the matrix shows what it inherits
        tenant=tenant,
        slug="lab-lead",
        name="Lab lead",
        parents=["viewer"],
        rules=[
            {"effect": "allow", "permission": "grant:read", "scope": "all"},
            {"effect": "deny", "permission": "user:read", "scope": "all"},
        ],
    )
    member_create(tenant=tenant, data={"email": "ian@acme.test"}, by=acme["admin"])
    grant_create(
        tenant=tenant,
        permission="user:read",
        resource_type="report",
        resource_id="q3",
        membership=acme["member"],
    )
    delegation_create(
        delegator=acme["admin"],
        delegate=acme["member"],
        ends_at=timezone.now() + timedelta(days=3),
        permissions=["audit_log:read"],
        reason="holiday cover",
    )
    page, base = web_page, live_server.url
    sign_in(page, live_server, acme["admin"].user, tenant="acme")
    for name, path in (
        ("home", "/console/"),
        ("members", "/console/members/"),
        ("member", f"/console/members/{acme['member'].user_id}/"),
        ("invite", "/console/members/invite/"),
        ("invitations", "/console/invitations/"),
        ("roles", "/console/roles/"),
        ("delegations", "/console/delegations/"),
        ("grants", "/console/grants/"),
        ("settings", "/console/settings/"),
        ("audit", "/console/audit/"),
    ):
        answer = page.goto(f"{base}{path}")
        assert answer.status == 200, path
        _check(page, name)
    page.goto(f"{base}/console/roles/")
    assert page.locator('td[data-state="inherited"]').count() >= 3  # lab-lead from viewer
    assert page.locator('td[data-state="deny"]').count() == 1
    # a refusal is a page too
    answer = page.goto(f"{base}/console/members/00000000-0000-0000-0000-000000000000/")
    assert answer.status == 404
    _check(page, "not-found")
