"""The MFA world: acme with a member who can enrol, and helpers to sign in through HTTP."""

from __future__ import annotations

import time

import pytest
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

from tessera.identity import totp

API = "/api/v1"
LOGIN = f"{API}/auth/login"
VERIFY = f"{API}/auth/mfa/verify"
SETUP = f"{API}/auth/mfa/totp/setup"
CONFIRM = f"{API}/auth/mfa/totp/confirm"
DISABLE = f"{API}/auth/mfa/disable"
REGENERATE = f"{API}/auth/mfa/backup-codes/regenerate"
DEVICES = f"{API}/auth/mfa/devices"
EMAIL = "mia@example.test"


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def post(client, path, body=None, token=None, **kw):
    return client.post(
        path, body or {}, content_type="application/json", headers=bearer(token), **kw
    )


def login(client, email=EMAIL, password=DEFAULT_PASSWORD, **extra):
    environ = {k: extra.pop(k) for k in list(extra) if k.isupper()}
    return client.post(
        LOGIN,
        {"email": email, "password": password, "tenant": "acme", **extra},
        content_type="application/json",
        **environ,
    )


def code_now(secret: str, offset_steps: int = 0) -> str:
    """The TOTP code `offset_steps` steps from now."""
    return totp.code_at_step(secret, totp.time_step(time.time()) + offset_steps)


def problem(response) -> dict:
    """The problem body without its per-request fields."""
    body = response.json()
    return {k: v for k, v in body.items() if k not in ("request_id", "instance")}


@pytest.fixture
def acme(db):
    return make_tenant("acme")


@pytest.fixture
def mia(acme):
    return make_member(acme, EMAIL, roles=["member"])


@pytest.fixture
def token(client, mia):
    r = login(client)
    assert r.status_code == 200, r.content
    return r.json()["access_token"]


class Enrolled:
    """A member with TOTP on: `secret`, the ten `backup_codes`, and the step confirm used."""

    def __init__(self, secret: str, backup_codes: list[str]):
        self.secret = secret
        self.backup_codes = backup_codes


def enrol(client, token: str) -> Enrolled:
    setup = post(client, SETUP, token=token)
    assert setup.status_code == 200, setup.content
    secret = setup.json()["secret"]
    confirmed = post(client, CONFIRM, {"code": code_now(secret)}, token=token)
    assert confirmed.status_code == 200, confirmed.content
    return Enrolled(secret, confirmed.json()["backup_codes"])


@pytest.fixture
def enrolled(client, token) -> Enrolled:
    return enrol(client, token)
