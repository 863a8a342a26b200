"""The admin and the API docs render in Chromium under their Content-Security-Policy: no
violation reported (a `securitypolicyviolation` event or a console error), no failed asset."""

from __future__ import annotations

import pytest

from tessera.identity.models import User
from tests.e2e.harness import needs_chromium
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def visit(page, url: str, ready: str) -> list[str]:
    page.set_default_timeout(60_000)  # a loaded machine: the first page compiles templates
    page.goto(url)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    return page.evaluate("() => window.__cspViolations")


def test_the_admin_renders_without_csp_violations(live_server, web_page):
    tenant = make_tenant("acme")
    member = make_member(tenant, "ann@acme.test", roles=["viewer"])
    User.objects.create_user("root@platform.test", DEFAULT_PASSWORD, is_platform_admin=True)
    page = web_page
    page.add_init_script(WATCH_CSP)
    base = live_server.url

    assert visit(page, f"{base}/admin/login/", "#id_username") == []
    page.fill("#id_username", "root@platform.test")
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    pages = {
        "/admin/": "#content",
        "/admin/tenancy/tenant/": "#changelist",
        "/admin/tenancy/tenant/add/": "#id_slug",
        f"/admin/tenancy/tenant/{tenant.pk}/change/": "#id_name",
        f"/admin/identity/user/{member.user.pk}/change/": "#content",
        "/admin/access/role/": "#changelist",
        "/admin/access/role/matrix/": "#tenant",
    }
    for path, ready in pages.items():
        assert visit(page, base + path, ready) == [], path

    # the matrix's tenant chooser submits on change (its script is a file now)
    page.select_option("#tenant", "acme")
    page.wait_for_selector("#permission-matrix")
    assert page.evaluate("() => window.__cspViolations") == []
    assert page.problems == []


# ReDoc's menu shows a "Redocly" logo from its CDN: the policy keeps it out (no visitor's address
# goes to a third party), and that is the one refusal the page causes
REDOC_LOGO = "cdn.redoc.ly"


def test_the_api_docs_render_without_csp_violations(live_server, web_page):
    page = web_page
    page.add_init_script(WATCH_CSP)
    assert visit(page, f"{live_server.url}/api/docs", ".swagger-ui .info") == []
    assert page.problems == []
    violations = visit(page, f"{live_server.url}/api/redoc", "h1")
    assert [v for v in violations if REDOC_LOGO not in v] == []
    assert [p for p in page.problems if REDOC_LOGO not in p] == []
    assert page.locator("h1").first.inner_text().strip() != ""  # the document rendered
