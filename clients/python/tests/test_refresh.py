"""The token holders against an in-memory Tessera that rotates refresh tokens like the real one
(one use each; a spent one again is refused, benign within the grace period). The same holders
against a real Tessera are in test_refresh_e2e.py."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest

from conftest import BASE_URL
from tessera_client import (
    AsyncTokenHolder,
    MemoryTokenStore,
    TesseraError,
    TesseraUnauthenticated,
    TesseraUnavailable,
    TokenHolder,
    Tokens,
)


class Rotating:
    """`POST /auth/refresh` and `/auth/login` with rotation; records what it was sent."""

    def __init__(self, lifetime: int = 900) -> None:
        self.lifetime = lifetime
        self.live: set[str] = set()
        self.spent: set[str] = set()
        self.sent: list[str] = []
        self.down = False
        self.revoked = False
        self.counter = 0
        self.lock = threading.Lock()
        self.login_extra: dict = {}

    def issue(self) -> dict:
        self.counter += 1
        refresh = f"r{self.counter}"
        self.live.add(refresh)
        return {
            "access_token": f"a{self.counter}",
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.lifetime,
        }

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("down", request=request)
        body = json.loads(request.content)
        with self.lock:
            if request.url.path == "/api/v1/auth/login":
                return httpx.Response(200, json={**self.issue(), **self.login_extra})
            token = body["refresh_token"]
            self.sent.append(token)
            if token in self.live and not self.revoked:
                self.live.discard(token)
                self.spent.add(token)
                return httpx.Response(200, json=self.issue())
        problem = {"status": 401, "title": "Unauthenticated", "code": "invalid_refresh_token"}
        return httpx.Response(
            401, json=problem, headers={"Content-Type": "application/problem+json"}
        )


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def tessera() -> Rotating:
    return Rotating()


def holder(tessera: Rotating, clock: Clock, store=None, tokens=None, **kw) -> TokenHolder:
    if tokens is None and store is None:
        tokens = tessera.issue()
    return TokenHolder(
        BASE_URL,
        tokens,
        store=store,
        transport=httpx.MockTransport(tessera.handler),
        clock=clock,
        winner_wait=0.2,
        **kw,
    )


def test_a_fresh_token_is_used_without_a_request(tessera):
    clock = Clock()
    h = holder(tessera, clock)
    assert h.access_token() == "a1" and tessera.sent == []


def test_refreshes_shortly_before_expiry_and_stores_the_new_tokens(tessera):
    clock = Clock()
    store = MemoryTokenStore()
    h = holder(tessera, clock, store=store, tokens=tessera.issue())
    clock.now += 900 - 61
    assert h.access_token() == "a1"
    clock.now += 2  # 59 s left: within refresh_before (60 s)
    assert h.access_token() == "a2"
    assert tessera.sent == ["r1"] and store.load().refresh_token == "r2"
    assert h.access_token() == "a2" and h.refresh_count == 1


def test_a_short_lived_token_refreshes_at_half_its_lifetime(tessera):
    clock = Clock()
    tessera.lifetime = 20
    h = holder(tessera, clock)
    clock.now += 9
    assert h.access_token() == "a1"
    clock.now += 1.5
    assert h.access_token() == "a2"


def test_concurrent_callers_share_one_refresh(tessera):
    clock = Clock()
    h = holder(tessera, clock)
    clock.now += 890
    barrier = threading.Barrier(8)
    seen: list[str] = []

    def use():
        barrier.wait()
        seen.append(h.access_token())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == ["a2"] * 8 and tessera.sent == ["r1"]


def test_benign_retry_after_a_concurrent_refresh_uses_the_winners_tokens(tessera):
    """Two holders of one session (a shared store) both spend r1: the loser's 401 is the benign
    retry, and it takes the winner's tokens instead of failing or trying again."""
    clock = Clock()
    store = MemoryTokenStore()
    first = holder(tessera, clock, store=store, tokens=tessera.issue())
    second = holder(tessera, clock, store=store)
    stale = store.load()
    assert first.refresh().refresh_token == "r2"
    won = second._refresh(stale)  # what a holder that read the store before the winner does
    assert won.access_token == "a2" and won.refresh_token == "r2"
    assert tessera.sent == ["r1", "r1"]  # one request each, no loop
    assert second.access_token() == "a2"


def test_a_refused_refresh_without_a_winner_raises_once(tessera):
    clock = Clock()
    h = holder(tessera, clock)
    tessera.revoked = True
    clock.now += 899
    with pytest.raises(TesseraUnauthenticated, match="log in again"):
        h.access_token()
    assert tessera.sent == ["r1"]


def test_tessera_down_keeps_a_valid_token_then_fails_closed(tessera):
    clock = Clock()
    h = holder(tessera, clock, retry_interval=5)
    clock.now += 850
    tessera.down = True
    assert h.access_token() == "a1"  # still valid: kept
    assert h.access_token() == "a1" and h.refresh_count == 1  # no retry within the interval
    clock.now += 5
    assert h.access_token() == "a1" and h.refresh_count == 2
    clock.now += 60  # expired
    with pytest.raises(TesseraUnavailable):
        h.access_token()
    tessera.down = False
    assert h.access_token() == "a2"


def test_login_refuses_sessions_that_cannot_act(tessera):
    transport = httpx.MockTransport(tessera.handler)
    with TokenHolder.login(BASE_URL, "a@x.test", "pw", tenant="acme", transport=transport) as h:
        assert h.access_token() == "a1"
    tessera.login_extra = {"password_change_required": True}
    with pytest.raises(TesseraError, match="must_change_password"):
        TokenHolder.login(BASE_URL, "a@x.test", "pw", tenant="acme", transport=transport)
    tessera.login_extra = {"mfa_required": True}
    with pytest.raises(TesseraError, match="MFA"):
        TokenHolder.login(BASE_URL, "a@x.test", "pw", tenant="acme", transport=transport)


def test_a_malformed_refresh_answer_keeps_the_valid_token():
    clock = Clock()
    answers = iter([httpx.Response(200, json={"unexpected": True}), httpx.Response(200, text="x")])
    transport = httpx.MockTransport(lambda request: next(answers))
    tokens = {"access_token": "a1", "refresh_token": "r1", "expires_in": 900}
    h = TokenHolder(BASE_URL, tokens, transport=transport, clock=clock, retry_interval=0)
    clock.now += 890
    assert h.access_token() == "a1"
    assert h.access_token() == "a1" and h.refresh_count == 2


def test_tokens_from_an_answer_need_the_tokens():
    with pytest.raises(TesseraUnavailable):
        Tokens.from_answer({"access_token": "a"})


async def test_async_holder_refreshes_once_and_takes_the_winners_tokens(tessera):
    clock = Clock()
    store = MemoryTokenStore(Tokens.from_answer(tessera.issue(), clock.now))
    transport = httpx.MockTransport(tessera.handler)
    first = AsyncTokenHolder(BASE_URL, store=store, transport=transport, clock=clock)
    second = AsyncTokenHolder(
        BASE_URL, store=store, transport=transport, clock=clock, winner_wait=0.2
    )
    clock.now += 890
    answers = await asyncio.gather(*(first.access_token() for _ in range(5)))
    assert answers == ["a2"] * 5 and tessera.sent == ["r1"]
    stale = Tokens("a1", "r1", clock.now + 10, 900)
    assert (await second._refresh(stale)).access_token == "a2"
    assert tessera.sent == ["r1", "r1"]
    await first.aclose()
    await second.aclose()
