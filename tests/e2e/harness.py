"""Helpers of the browser tests (the fixtures are in conftest.py): see conftest's docstring."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERIOUS = ("serious", "critical")

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: `apt-get install -y chromium` (CI installs it)",
)


def sign_in(page, live_server, user, *, tenant: str | None = None) -> None:
    """A signed-in browser without the sign-in page: the login flow's session, in its cookie."""
    from tessera.authn.flows.login import LoginSuccess, login_password
    from tessera.authn.request_auth import SESSION_COOKIE, session_cookie_value
    from tests.factories import DEFAULT_PASSWORD

    outcome = login_password(
        email=user.email, password=DEFAULT_PASSWORD, tenant=tenant, purpose="web"
    )
    assert isinstance(outcome, LoginSuccess), "sign_in() is for people without a second factor"
    session = outcome.session
    value = session_cookie_value(
        session_id=session.pk,
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        membership_id=session.membership_id,
    )
    host = urlsplit(live_server.url).hostname
    page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": value, "domain": host, "path": "/", "httpOnly": True}]
    )


def assert_no_serious_axe_violations(page) -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # evaluated through the DevTools protocol: the page's CSP (no inline script) still holds
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                'best-practice']},
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    serious = [v for v in result if v["impact"] in SERIOUS]
    assert serious == [], f"axe-core on {page.url}: {serious}"


def screenshot(page, name: str) -> None:
    """docs/screenshots/<name>.png, when asked (`make screenshots` sets TESSERA_SCREENSHOTS=1)."""
    if os.environ.get("TESSERA_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
