"""What a person sees on a freshly started server: `/api/docs` builds Swagger UI's operation list
and `/admin/login/` is styled — with the assets collected and served as in production (hashed,
compressed, cached), by a real `tessera serve` process driven through Debian's Chromium."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.e2e.serving import tessera_serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing: `apt-get install -y chromium` (CI installs it)",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`tessera serve` on a fresh SQLite database, as `make run` starts it."""
    with tessera_serve(tmp_path_factory.mktemp("var")) as base:
        yield base


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        failures: list[str] = []
        page.on("requestfailed", lambda request: failures.append(f"failed {request.url}"))
        page.on(
            "response",
            lambda response: (
                failures.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
        page.failures = failures
        try:
            yield page
        finally:
            browser.close()


def test_swagger_ui_builds_the_operation_list_without_internet(server, page):
    page.goto(f"{server}/api/docs")
    page.wait_for_selector(".opblock", state="attached")
    operations = page.locator(".opblock").count()
    assert operations > 50  # every operation of the API, rendered by the bundled Swagger UI
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Tessera")
    assert page.failures == []


def test_the_admin_login_page_is_styled(server, page):
    page.goto(f"{server}/admin/login/")
    page.wait_for_selector("#id_username")
    # base.css and login.css applied: the header takes the admin's colours, the form its box
    header_background = page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor")
    assert header_background not in ("rgba(0, 0, 0, 0)", "transparent")
    stylesheets = page.evaluate(
        "() => [...document.styleSheets].map(s => [s.href, s.cssRules.length])"
    )
    assert any("admin/css/base." in href and rules > 50 for href, rules in stylesheets)
    assert page.failures == []


def test_assets_are_hashed_compressed_and_cached_for_a_year(server):
    html = httpx.get(f"{server}/api/docs").text
    bundle = html.split('src="', 1)[1].split('"', 1)[0]
    assert bundle.startswith("/static/ninja/swagger-ui-bundle.") and bundle.count(".") == 2
    answer = httpx.get(f"{server}{bundle}", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert "immutable" in answer.headers["cache-control"]
    assert "max-age=315360000" in answer.headers["cache-control"]


def test_redoc_renders_the_reference_without_internet(server, page):
    page.goto(f"{server}/api/redoc")
    page.wait_for_selector("h1", state="attached")
    assert page.locator("h1").first.inner_text().startswith("Tessera")
    assert page.locator("[data-section-id^='operation/']").count() > 50
    # ReDoc's own sidebar logo comes from its CDN and hides itself when that is unreachable
    assert [f for f in page.failures if "cdn.redoc.ly/redoc/logo-mini.svg" not in f] == []
