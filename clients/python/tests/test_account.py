"""The person's own account calls: accept an invitation, verify an address, edit the profile."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from conftest import BASE_URL
from tessera_client import (
    AsyncTesseraClient,
    TesseraClient,
    TesseraError,
    TesseraForbidden,
    TesseraUnauthenticated,
    TesseraUnavailable,
)

LOGIN_ANSWER = {
    "access_token": "a",
    "refresh_token": "r",
    "token_type": "Bearer",
    "expires_in": 900,
    "session_id": "s1",
    "user": {"id": "u1", "email": "p@x.test"},
    "tenant": {"id": "t1", "slug": "acme", "name": "Acme"},
    "memberships": [],
}


class Account:
    """A fake of the four endpoints; records each request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.break_after_send = 0  # the next N requests fail after reaching the server

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.break_after_send > 0:
            self.break_after_send -= 1
            raise httpx.ReadError("connection reset", request=request)
        body = json.loads(request.content) if request.content else {}
        path = request.url.path
        if path == "/api/v1/auth/invitations/accept":
            if body.get("token") == "used":
                return problem(400, "invitation_used")
            if "password" not in body:
                return problem(422, "validation_failed")
            return httpx.Response(200, json=LOGIN_ANSWER)
        if path == "/api/v1/auth/email/verify":
            return httpx.Response(202, json={"detail": "on its way"})
        if path == "/api/v1/auth/email/verify/confirm":
            return httpx.Response(204) if body.get("token") == "good" else problem(400, "x")
        if path == "/api/v1/auth/me" and request.method == "PATCH":
            if request.headers.get("Authorization") != "Bearer person-token":
                return problem(401, "not_authenticated")
            return httpx.Response(200, json={"id": "u1", **body})
        return problem(404, "not_found")


def problem(status: int, code: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": code, "status": status, "detail": code, "code": code},
        headers={"Content-Type": "application/problem+json"},
    )


@pytest.fixture
def account() -> Account:
    return Account()


@pytest.fixture
def sync_client(account):
    with TesseraClient(
        BASE_URL,
        api_key="tsk_app",
        any_tenant=True,
        transport=httpx.MockTransport(account.handler),
        backoff=0,
    ) as client:
        yield client


def test_accept_invitation_sends_the_token_and_password_without_the_apps_key(sync_client, account):
    answer = sync_client.accept_invitation("tok", "a long new passphrase")
    assert answer["tenant"]["slug"] == "acme"
    [request] = account.requests
    assert request.method == "POST" and request.url.path == "/api/v1/auth/invitations/accept"
    assert json.loads(request.content) == {"token": "tok", "password": "a long new passphrase"}
    assert "Authorization" not in request.headers  # the application's key is not the person


def test_acceptance_errors_are_typed(sync_client):
    with pytest.raises(TesseraError) as err:
        sync_client.accept_invitation("used", "pw")
    assert err.value.status == 400 and err.value.problem["code"] == "invitation_used"
    with pytest.raises(ValueError):
        sync_client.accept_invitation("")


def test_a_write_is_not_repeated_after_it_reached_tessera(sync_client, account):
    account.break_after_send = 1
    with pytest.raises(TesseraUnavailable):
        sync_client.accept_invitation("tok", "pw")
    assert len(account.requests) == 1  # a single-use token is never sent twice


def test_email_verification_request_and_confirm(sync_client, account):
    assert sync_client.request_email_verification("p@x.test") is None
    assert sync_client.confirm_email("good") is None
    sync_client.confirm_email("good", password="a new passphrase")
    assert [json.loads(r.content) for r in account.requests] == [
        {"email": "p@x.test"},
        {"token": "good"},
        {"token": "good", "password": "a new passphrase"},
    ]
    with pytest.raises(TesseraError):
        sync_client.confirm_email("bad")


def test_update_me_uses_the_persons_credential(sync_client, account):
    profile = sync_client.update_me(token="person-token", first_name="Ada", timezone="UTC")
    assert profile == {"id": "u1", "first_name": "Ada", "timezone": "UTC"}
    assert account.requests[-1].method == "PATCH"
    with pytest.raises(TesseraUnauthenticated):
        sync_client.update_me(first_name="no credential")  # never the application's key
    with pytest.raises(ValueError):
        sync_client.update_me(token="person-token", email="x@y.test")
    with pytest.raises(TesseraUnauthenticated):
        sync_client.update_me(token="someone-else", first_name="X")


def test_the_async_client_has_the_same_calls(account):
    async def run():
        client = AsyncTesseraClient(
            BASE_URL, any_tenant=True, transport=httpx.MockTransport(account.handler)
        )
        try:
            login = await client.accept_invitation("tok", "pw")
            await client.request_email_verification("p@x.test")
            await client.confirm_email("good")
            profile = await client.update_me(token="person-token", last_name="L")
            return login, profile
        finally:
            await client.aclose()

    login, profile = asyncio.run(run())
    assert login["session_id"] == "s1" and profile["last_name"] == "L"
    assert [r.url.path for r in account.requests][-1] == "/api/v1/auth/me"


def test_forbidden_maps_to_its_class(account):
    def handler(request):
        return problem(403, "invitation_for_another_person")

    with TesseraClient(BASE_URL, any_tenant=True, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(TesseraForbidden):
            client.accept_invitation("tok", "pw")
