"""The browser harness itself, on a page behind `page_login_required`: the redirect of an
anonymous visitor, a signed-in page, its assets under the CSP, axe-core's verdict."""

from __future__ import annotations

import pytest

from tests.e2e.harness import assert_no_serious_axe_violations, needs_chromium, sign_in
from tests.factories import make_member, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.web.demo_urls"),
    needs_chromium,
]


def test_a_signed_in_page_renders_styled_under_the_csp_and_passes_axe(live_server, web_page):
    page = web_page
    page.goto(f"{live_server.url}/account/demo/")
    assert "/signin/?next=%2Faccount%2Fdemo%2F" in page.url  # anonymous: sent to sign in

    member = make_member(make_tenant("acme"), "ada@a.test")
    sign_in(page, live_server, member.user)
    page.goto(f"{live_server.url}/account/demo/")
    assert page.locator(".site-nav__who").inner_text() == "ada@a.test in Acme"
    header = page.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(27, 31, 36)"  # web.css applied
    assert_no_serious_axe_violations(page)
    assert page.problems == []
