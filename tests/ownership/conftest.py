"""The world of the identity-ownership tests: acme and globex, each with an administrator and a
manager; HTTP helpers that sign in through POST /api/v1/auth/login (Bearer tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client, TestCase

from tessera.tenancy.models import Membership, Tenant
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant
from tests.mailbox import TOKEN_IN, mailed_token  # noqa: F401  (the ownership tests use both)

API = "/api/v1"
NEW_PASSWORD = "a passphrase only the real person knows"
ATTACKER_PASSWORD = "the manager knows this long passphrase"


def call(method: str, path: str, body=None, *, token=None, client=None, tenant=None, key=None):
    client = client or Client()
    headers = {}
    if tenant:
        headers["X-Tenant"] = tenant
    if key:
        headers["X-API-Key"] = key
    if token:
        headers["Authorization"] = f"Bearer {token}"
    send = getattr(client, method)
    # mails leave after commit: run the request's on-commit callbacks inside the test transaction
    with TestCase.captureOnCommitCallbacks(execute=True):
        if method in ("get", "delete") and body is None:
            return send(API + path, headers=headers)
        data = body if body is not None else {}
        return send(API + path, data, "application/json", headers=headers)


def login(email: str, password: str = DEFAULT_PASSWORD, tenant: str | None = None):
    body: dict[str, Any] = {"email": email, "password": password}
    if tenant:
        body["tenant"] = tenant
    return call("post", "/auth/login", body)


def token_of(email: str, tenant: str, password: str = DEFAULT_PASSWORD) -> str:
    r = login(email, password, tenant)
    assert r.status_code == 200, r.content
    return r.json()["access_token"]


@dataclass
class World:
    acme: Tenant
    globex: Tenant
    acme_admin: Membership
    acme_manager: Membership
    globex_admin: Membership
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, who: Membership) -> str:
        email = who.user.email
        if email not in self._tokens:
            self._tokens[email] = token_of(email, who.tenant.slug)
        return self._tokens[email]

    def as_(self, who: Membership, method: str, path: str, body=None):
        return call(method, path, body, token=self.token(who))


@pytest.fixture
def world(db) -> World:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    return World(
        acme=acme,
        globex=globex,
        acme_admin=make_member(acme, "admin@acme.test", roles=["admin"]),
        acme_manager=make_member(acme, "manager@acme.test", roles=["manager"]),
        globex_admin=make_member(globex, "admin@globex.test", roles=["admin"]),
    )
