"""Helpers for the authentication tests: log in through HTTP, call with a Bearer token."""

from __future__ import annotations

import time

import pytest
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


def login(client, email, password=DEFAULT_PASSWORD, *, ip=None, **extra):
    environ = {"REMOTE_ADDR": ip} if ip else {}
    return client.post(
        LOGIN,
        {"email": email, "password": password, **extra},
        content_type="application/json",
        **environ,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(client, token: str):
    return client.get(ME, headers=bearer(token))


def post(client, path, body=None, token=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers.update(bearer(token))
    return client.post(path, body or {}, content_type="application/json", headers=headers, **kw)


def without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "request_id"}


@pytest.fixture
def acme(db):
    return make_tenant("acme")


@pytest.fixture
def alice(acme):
    """An active member of acme with the default password."""
    return make_member(acme, "alice@example.test", roles=["member"])


@pytest.fixture
def tokens(client, alice):
    r = login(client, "alice@example.test", tenant="acme")
    assert r.status_code == 200, r.content
    return r.json()


class Clock:
    """Moves `time.time` (what the `limits` storages use) forward without sleeping."""

    def __init__(self, monkeypatch):
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)
