"""The admin UI in a real browser (Playwright driving Debian's Chromium against live_server):
log in, create a tenant, add a member, give them a role, revoke their session."""

from __future__ import annotations

import os
import re

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing: `apt-get install -y chromium` (CI installs it)",
    ),
]


@pytest.fixture
def browser_page(monkeypatch):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls between
    # browser steps are plain synchronous code. While that loop exists Django keys its database
    # connections by context, not by thread, so those opened meanwhile are closed before leaving
    # (else PostgreSQL refuses to drop the test database: "being accessed by other users").
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()
            connections.close_all()


def test_admin_creates_a_tenant_adds_a_member_gives_a_role_and_revokes_a_session(
    live_server, browser_page
):
    from tessera.access.models import RoleAssignment
    from tessera.authn.models import Session
    from tessera.identity.models import User
    from tessera.identity.services import user_password_set
    from tessera.tenancy.models import Membership, Tenant

    User.objects.create_user("root@platform.test", PASSWORD, is_platform_admin=True)
    page = browser_page
    base = live_server.url

    # log in
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "root@platform.test")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "Tessera" in page.title()

    # create a tenant
    page.goto(f"{base}/admin/tenancy/tenant/add/")
    page.fill("#id_slug", "wayne")
    page.fill("#id_name", "Wayne Enterprises")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    tenant = Tenant.objects.get(slug="wayne")
    assert set(tenant.roles.values_list("slug", flat=True)) >= {"admin", "viewer"}

    # add a member (with the viewer role), from the tenant's "add a member" link
    page.goto(f"{base}/admin/tenancy/tenant/{tenant.pk}/change/")
    page.click("text=add a member")
    page.fill("#id_email", "lucius@wayne.test")
    page.fill("#id_first_name", "Lucius")
    page.select_option("#id_roles", label="wayne · viewer")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    membership = Membership.objects.get(tenant=tenant, user__email="lucius@wayne.test")

    # give them a role on their membership page
    page.goto(f"{base}/admin/tenancy/membership/{membership.pk}/change/")
    empty_row = page.locator("select[name$='-role']:not([name*='__prefix__'])").last
    empty_row.select_option(label="manager")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    roles = set(
        RoleAssignment.objects.filter(membership=membership).values_list("role__slug", flat=True)
    )
    assert roles == {"viewer", "manager"}

    # the member signs in through the API; the admin revokes that session
    user_password_set(user=membership.user, password=PASSWORD, validate=False)
    login = httpx.post(
        f"{base}/api/v1/auth/login",
        json={"email": "lucius@wayne.test", "password": PASSWORD, "tenant": "wayne"},
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    session_id = login.json()["session_id"]

    page.goto(f"{base}/admin/authn/session/?state=live")
    page.check(f"input[name=_selected_action][value='{session_id}']")
    page.select_option("select[name=action]", "revoke_sessions")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")
    assert re.search(r"Revoked 1 session", page.inner_text(".messagelist"))
    assert Session.objects.get(pk=session_id).revoked_at is not None
    me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
