"""The browser harness for the pages for people (Playwright driving Debian's Chromium).

live_server                      pytest-django's server thread (the test's database)
web_page                         a fresh browser context and page; `page.problems` collects
                                 failed requests, 4xx/5xx answers for assets and console
                                 errors (a CSP violation is one)
harness.sign_in(page, live_server, user, tenant=None)
                                 binds the page to a new Tessera session of `user`, as the
                                 hosted sign-in does (tessera.authn login flow, purpose "web")
harness.assert_no_serious_axe_violations(page)
                                 axe-core (vendored: tests/e2e/vendor/axe-core, see
                                 docs/decisions/0015-hosted-pages.md) finds no serious or
                                 critical violation of WCAG 2.1 A/AA on the page
harness.screenshot(page, name)   saves docs/screenshots/<name>.png when TESSERA_SCREENSHOTS=1
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def chromium():
    # module, not session: Playwright's sync API keeps an event loop running in this thread until
    # it stops, and the async tests that follow in the same worker (tests/realtime) cannot run
    # their own loop meanwhile
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls between
    # browser steps are plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def web_page(chromium):
    from django.db import connections

    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("requestfailed", lambda request: problems.append(f"failed {request.url}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            # a failed load is already counted from its response (documents excepted: the test
            # reads those itself)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.problems = problems
    try:
        yield page
    finally:
        context.close()
        connections.close_all()
