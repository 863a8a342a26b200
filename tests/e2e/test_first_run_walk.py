"""The issue's walk from a fresh clone, as a person does it, against a real `tessera serve`
started as `make run` starts it (a fresh SQLite database, the console mail backend):

the printed administrator signs in at /signin/, enrols TOTP on /account/ (QR code, then backup
codes), invites a member through the API (with the page's own session cookie and CSRF token, as
a browser front end would), the member opens the invitation link the server printed, chooses a
password and lands on their account page; the administrator signs in again through the MFA step.
Every page passes axe-core; `make screenshots` saves each one to docs/screenshots/.
"""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.e2e.harness import (
    assert_no_serious_axe_violations,
    needs_chromium,
    screenshot,
    tessera_serve,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, needs_chromium]
MEMBER = "grace@demo.example"
MEMBER_PASSWORD = "a long passphrase of her own choosing"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    with tessera_serve(tmp_path_factory.mktemp("var")) as running:
        printed = running.command("bootstrap-demo")
        yield running, printed


def _checked(page, name: str) -> None:
    assert_no_serious_axe_violations(page)
    screenshot(page, name)
    assert page.problems == [], page.problems


def test_the_printed_admin_signs_in_enrols_totp_invites_and_the_member_accepts(first_run, web_page):
    server, printed = first_run
    email = re.search(r"email:\s+(\S+)", printed).group(1)
    password = re.search(r"password:\s+(\S+)", printed).group(1)
    assert f"{server.base}/signin/" in printed
    page = web_page

    # the administrator signs in at the hosted page
    page.goto(f"{server.base}/signin/")
    _checked(page, "signin-email")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/signin/password/")
    _checked(page, "signin-password")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/")
    assert page.locator(".site-nav__who").inner_text() == f"{email} in Demo"
    _checked(page, "account")

    # enrols TOTP: the QR code, then a code from the "app", then the backup codes
    page.get_by_role("button", name="Set up an authenticator app").click()
    qr = page.locator("img.qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    _checked(page, "account-mfa-setup")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_selector("#backup-codes")
    backup_codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(backup_codes) == 10
    _checked(page, "account-backup-codes")
    page.get_by_role("link", name="I have kept them").click()
    page.wait_for_url("**/account/")
    assert "10 backup codes left." in page.locator("#mfa-heading + p").inner_text()

    # invites a member through the API, with this browser's session (the console is elsewhere)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    invited = page.request.post(
        f"{server.base}/api/v1/users",
        data={"email": MEMBER, "first_name": "Grace", "roles": ["viewer"]},
        headers={"X-CSRFToken": csrf},
    )
    assert invited.status == 201, invited.text()
    link = re.search(
        rf"invitation link for {re.escape(MEMBER)}: (\S+)", _wait_for(server, MEMBER)
    ).group(1)
    assert link.startswith(f"{server.base}/invitations/accept/?token=")

    # the member opens the printed link in their own browser, chooses a password, lands home
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin/")
    page.context.clear_cookies()
    page.goto(link)
    _checked(page, "invitation-accept")
    page.get_by_label("New password", exact=True).fill(MEMBER_PASSWORD)
    page.get_by_label("New password, again").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Accept and sign in").click()
    page.wait_for_load_state()
    assert page.url.endswith("/account/"), page.inner_text("main")
    assert page.locator(".site-nav__who").inner_text() == f"{MEMBER} in Demo"
    _checked(page, "account-member")

    # the administrator signs in again: the MFA step takes a backup code
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin/")  # the sign-out's own redirect, not aborted by the next goto
    page.goto(f"{server.base}/signin/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/signin/mfa/")
    _checked(page, "signin-mfa")
    page.get_by_label("Code", exact=True).fill(backup_codes[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/account/")
    assert "9 backup codes left." in page.locator("#mfa-heading + p").inner_text()


def _wait_for(server, text: str) -> str:
    """The server's output once it mentions `text` (the mail leaves after the commit)."""
    import time

    deadline = time.monotonic() + 10
    while text not in server.output():
        assert time.monotonic() < deadline, server.output()[-2000:]
        time.sleep(0.1)
    return server.output()
