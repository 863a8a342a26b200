"""The world of the SSO tests: tenant acme (verified domain acme.example, an administrator) and
two real OpenID providers on loopback — oidc-provider-mock (session-wide) and our own
(`tests.sso.provider`, per test)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from tessera.directory.domains import domain_approve, domain_claim
from tessera.sso.models import IdentityProvider
from tessera.sso.providers import provider_create
from tests.factories import make_member, make_tenant
from tests.sso.provider import OwnProvider, Running, callback_path

APP = "https://app.acme.example"
API = "/api/v1"


@pytest.fixture(scope="session")
def mock_idp():
    """oidc-provider-mock, once for the session (each test uses its own subjects). Imported
    here, under the suite's warning filters: it uses Authlib APIs Authlib deprecates."""
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def own_idp():
    with Running(OwnProvider()) as provider:
        yield provider


@pytest.fixture
def acme(db):
    tenant = make_tenant("acme")
    domain_approve(domain=domain_claim(tenant=tenant, domain="acme.example"))
    return tenant


@pytest.fixture
def acme_admin(acme):
    return make_member(acme, "admin@acme.example", roles=["admin"])


def register(tenant, issuer: str, **data) -> IdentityProvider:
    body = {
        "kind": "oidc",
        "name": "Corporate IdP",
        "issuer": issuer,
        "client_id": "tessera-client",
        "client_secret": "client-secret-value",
        "jit": True,
        "return_origins": [APP],
        "group_claim": "groups",
        **data,
    }
    return provider_create(tenant=tenant, data=body)


def set_user(base: str, sub: str, **claims) -> None:
    """Register (or change) a person at oidc-provider-mock."""
    answer = requests.put(f"{base}/users/{sub}", json=claims, timeout=5)
    assert answer.status_code == 204, answer.text


@dataclass
class Flow:
    """One browser: starts at Tessera, consents at the provider, comes back."""

    client: Client

    def start(self, provider: IdentityProvider, **params):
        return self.client.get(f"{API}/auth/sso/{provider.pk}/start", params)

    def at_mock(self, location: str, sub: str) -> str:
        """Consent at oidc-provider-mock as `sub`; the redirect back to Tessera."""
        answer = requests.post(location, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def at_own(self, location: str, sub: str) -> str:
        answer = requests.get(f"{location}&login_hint={sub}", allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def back(self, location: str):
        return self.client.get(callback_path(location))

    def sign_in(self, provider, sub: str, *, own: bool = False, **params):
        started = self.start(provider, **params)
        assert started.status_code == 302, started.content
        consent = self.at_own if own else self.at_mock
        return self.back(consent(started["Location"], sub))

    def exchange(self, code: str, **extra):
        return self.client.post(
            f"{API}/auth/sso/exchange",
            json.dumps({"code": code, **extra}),
            content_type="application/json",
        )


@pytest.fixture
def flow() -> Flow:
    return Flow(Client())


def code_of(response) -> str:
    """The one-time code of a callback answer (redirect or JSON)."""
    if response.status_code == 302:
        return parse_qs(urlsplit(response["Location"]).query)["code"][0]
    assert response.status_code == 200, response.content
    return response.json()["code"]


def me(access_token: str):
    return Client().get(f"{API}/auth/me", headers={"Authorization": f"Bearer {access_token}"})
