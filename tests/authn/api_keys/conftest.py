"""The API-key world: acme with an admin and a member, bearer helpers and key creation."""

from __future__ import annotations

import pytest
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

API = "/api/v1"
KEYS = f"{API}/api-keys"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login_token(client, email: str, tenant: str = "acme") -> str:
    r = client.post(
        f"{API}/auth/login",
        {"email": email, "password": DEFAULT_PASSWORD, "tenant": tenant},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    return r.json()["access_token"]


def create_key(client, token: str, **body):
    body.setdefault("name", "ci")
    body.setdefault("scopes", ["user:read"])
    return client.post(KEYS, body, content_type="application/json", headers=bearer(token))


def call(client, path, key, *, header="bearer", method="get", **kw):
    headers = bearer(key) if header == "bearer" else {"X-API-Key": key}
    return getattr(client, method)(path, headers=headers, **kw)


@pytest.fixture
def acme(db):
    return make_tenant("acme")


@pytest.fixture
def admin(acme):
    return make_member(acme, "admin@acme.test", roles=["admin"])


@pytest.fixture
def member(acme):
    return make_member(acme, "member@acme.test", roles=["member"])


@pytest.fixture
def member_token(client, member):
    return login_token(client, "member@acme.test")


@pytest.fixture
def admin_token(client, admin):
    return login_token(client, "admin@acme.test")


@pytest.fixture
def member_key(client, member_token):
    r = create_key(client, member_token, scopes=["user:read", "role:read"])
    assert r.status_code == 201, r.content
    return r.json()
