"""Single sign-on in a real browser: Chromium goes to Tessera's start URL, signs in at a real
OpenID provider (oidc-provider-mock on loopback), and comes back signed in (cookie mode) with
the roles its groups map to."""

from __future__ import annotations

import json
import os

import pytest
import requests

from tests.e2e.test_admin_browser import CHROMIUM, browser_page  # noqa: F401  (fixture)
from tests.sso.conftest import mock_idp  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
]


def test_a_person_signs_in_through_the_provider_in_chromium(
    live_server,
    browser_page,  # noqa: F811
    mock_idp,  # noqa: F811
    settings,
):
    from tessera.directory.domains import domain_approve, domain_claim
    from tessera.directory.groups import group_mapping_set
    from tessera.sso.providers import provider_create
    from tests.factories import make_tenant

    base = live_server.url
    settings.PUBLIC_URL = base
    tenant = make_tenant("acme")
    domain_approve(domain=domain_claim(tenant=tenant, domain="acme.example"))
    group_mapping_set(tenant=tenant, mapping=[{"group": "managers", "roles": ["manager"]}])
    provider = provider_create(
        tenant=tenant,
        data={
            "kind": "oidc",
            "name": "Mock",
            "issuer": mock_idp,
            "client_id": "tessera-browser",
            "client_secret": "browser-secret",
            "jit": True,
            "return_origins": [base],
            "group_claim": "groups",
        },
    )
    claims = {"email": "eve@acme.example", "email_verified": True, "groups": ["managers"]}
    assert requests.put(f"{mock_idp}/users/browser-eve", json=claims, timeout=5).ok

    page = browser_page
    page.goto(
        f"{base}/api/v1/auth/sso/{provider.pk}/start?mode=cookie&return_to={base}/api/v1/auth/me"
    )
    page.fill("input[name=sub]", "browser-eve")
    page.click("button[type=submit]:has-text('Authorize')")
    page.wait_for_url(f"{base}/api/v1/auth/me")
    me = json.loads(page.inner_text("body"))
    assert me["user"]["email"] == "eve@acme.example"
    assert me["tenant"]["slug"] == "acme"
    assert me["roles"] == ["manager"]
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["tessera_session"]["httpOnly"]
    assert "tessera_sso" not in cookies  # the browser binding is spent
