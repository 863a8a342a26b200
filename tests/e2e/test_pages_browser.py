"""The other pages in Chromium, as a person uses them (pytest-django's live server): password
reset from the mailed link, the tenant chooser, the trusted-device choice, an API key shown once,
a session ended from the account page, email verification, a dead link — axe-core on each."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.core import mail

from tessera.authn.models import Session
from tessera.authn.verification import email_verify_request
from tests.e2e.harness import (
    assert_no_serious_axe_violations,
    needs_chromium,
    screenshot,
    sign_in,
)
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]
NEW_PASSWORD = "a fresh passphrase for the reset"


def _checked(page, name: str | None = None) -> None:
    assert_no_serious_axe_violations(page)
    if name:
        screenshot(page, name)
    assert page.problems == [], page.problems


def _mailed(to: str, path: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        for message in reversed(mail.outbox):
            found = re.search(rf"https?://\S+{re.escape(path)}\?token=\S+", message.body)
            if message.to == [to] and found:
                return found.group(0)
        assert time.monotonic() < deadline, f"no {path} mail to {to}"
        time.sleep(0.1)


def _sign_in_by_form(page, base: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto(f"{base}/signin/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_forgotten_password_is_reset_from_the_mailed_link(live_server, web_page, settings):
    settings.PUBLIC_URL = live_server.url
    make_member(make_tenant("acme"), "ada@acme.test", roles=["admin"])
    page = web_page
    page.goto(f"{live_server.url}/signin/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/reset/")
    _checked(page, "reset-request")
    page.get_by_label("Email").fill("ada@acme.test")
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    _checked(page, "reset-sent")
    page.goto(_mailed("ada@acme.test", "/reset/"))
    _checked(page, "reset-confirm")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password, again").fill("short")
    page.get_by_role("button", name="Set the new password").click()
    assert page.locator(".field__errors").count() >= 1  # the tenant's policy, on the field
    _checked(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    page.get_by_role("heading", name="Your password was changed").wait_for()
    _checked(page, "reset-done")
    _sign_in_by_form(page, live_server.url, "ada@acme.test", NEW_PASSWORD)
    page.wait_for_url("**/account/")


def test_the_tenant_chooser_and_the_trusted_device_choice(live_server, web_page):
    ada = make_member(make_tenant("acme"), "ada@acme.test", roles=["admin"])
    make_member(make_tenant("globex"), user=ada.user, roles=["viewer"])
    from tests.web.conftest import enrol_totp

    secret, _ = enrol_totp(ada.user)
    page = web_page
    _sign_in_by_form(page, live_server.url, "ada@acme.test")
    page.wait_for_url("**/signin/mfa/")
    _checked(page)
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_label("Trust this device for 30 days (skip the code here)").check()
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/signin/tenant/")
    _checked(page, "signin-tenant")
    page.get_by_role("button", name=re.compile("Globex")).click()
    page.wait_for_url("**/account/")
    assert page.locator(".site-nav__who").inner_text() == "ada@acme.test in Globex"
    devices = page.locator("section[aria-labelledby=devices-heading] tbody tr")
    assert devices.count() == 1
    # the next sign-in on this device skips the code
    page.get_by_role("navigation").get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin/")  # the sign-out's own redirect, not aborted by the next goto
    _sign_in_by_form(page, live_server.url, "ada@acme.test")
    page.wait_for_url("**/signin/tenant/")


def test_an_api_key_is_shown_once_and_another_session_is_ended(live_server, web_page):
    ada = make_member(make_tenant("acme"), "ada@acme.test", roles=["admin"])
    page = web_page
    _sign_in_by_form(page, live_server.url, "ada@acme.test")
    page.wait_for_url("**/account/")
    page.get_by_label("Name", exact=True).fill("nightly export")
    page.get_by_label("Scopes").fill("user:read audit:read")
    page.get_by_role("button", name="Create API key").click()
    raw = page.locator("#api-key").inner_text()
    assert raw.startswith("tsk_")
    _checked(page, "account-api-key-created")
    page.get_by_role("link", name="Done").click()
    assert raw not in page.content()
    assert page.get_by_role("cell", name="nightly export").is_visible()

    # a session elsewhere (a phone, say) is listed and ended from here
    other = page.context.browser.new_context()
    try:
        phone = other.new_page()
        sign_in(phone, live_server, ada.user)
        phone.goto(f"{live_server.url}/account/")
        page.reload()
        rows = page.locator("section[aria-labelledby=sessions-heading] tbody tr")
        assert rows.count() == 2
        rows.filter(has_not_text="this session").get_by_role("button", name="End").click()
        page.get_by_text("The session has ended.").wait_for()
        phone.goto(f"{live_server.url}/account/")
        assert "/signin/" in phone.url
    finally:
        other.close()
    assert Session.objects.filter(user=ada.user, revoked_at__isnull=True).count() == 1


def test_email_verification_and_a_dead_link(live_server, web_page, settings):
    settings.PUBLIC_URL = live_server.url
    make_member(make_tenant("acme"), "kim@acme.test")
    email_verify_request(email="kim@acme.test")
    page = web_page
    page.goto(_mailed("kim@acme.test", "/verify-email/"))
    _checked(page, "verify-email")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Email address confirmed").wait_for()
    _checked(page, "verify-email-done")
    page.goto(f"{live_server.url}/invitations/accept/?token=not-a-real-token")
    assert page.get_by_role("heading", name="This invitation cannot be used").is_visible()
    _checked(page, "invitation-invalid")
