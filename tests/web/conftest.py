"""The pages' world: acme with an administrator and a viewer; helpers that sign in through the
hosted pages with Django's test client, as a browser without JavaScript would."""

from __future__ import annotations

import time

import pytest
from django.test import TestCase

from tessera.authn.flows.mfa_session import mfa_confirm
from tessera.identity import totp
from tessera.identity.mfa import totp_setup
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant


def code_now(secret: str, offset_steps: int = 0) -> str:
    return totp.code_at_step(secret, totp.time_step(time.time()) + offset_steps)


def enrol_totp(user) -> tuple[str, list[str]]:
    """TOTP on for `user` (through the services): its secret and backup codes."""
    found = totp_setup(user=user)
    codes = mfa_confirm(user=user, code=code_now(found.secret))
    return found.secret, codes


def page_sign_in(client, email: str, password: str = DEFAULT_PASSWORD, *, query: str = ""):
    """The email and password steps; the answer of the password step."""
    first = client.post(f"/signin/{query}", {"email": email})
    assert first.status_code == 302, first.content
    return client.post("/signin/password/", {"password": password})


def post_committed(client, path: str, data=None):
    """A POST whose on-commit work (mails) runs inside the test's transaction."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, data or {})


@pytest.fixture
def acme(db):
    return make_tenant("acme")


@pytest.fixture
def ada(acme):
    """acme's administrator."""
    return make_member(acme, "ada@acme.test", roles=["admin"])


@pytest.fixture
def vic(acme):
    """acme's viewer."""
    return make_member(acme, "vic@acme.test", roles=["viewer"])


@pytest.fixture
def signed_in(client, ada):
    answer = page_sign_in(client, "ada@acme.test")
    assert answer.status_code == 302 and answer["Location"] == "/account/", answer.content
    return client
