"""Against a real Tessera started by the SDK's own `tessera_server` fixture: the roles claim, the
server's RFC 6750 challenge, and the token holders' rotating refresh with the benign-retry rule."""

from __future__ import annotations

import asyncio
import os
import threading

import httpx
import pytest

from tessera_client import (
    AsyncTokenHolder,
    MemoryTokenStore,
    TesseraClient,
    TesseraUnauthenticated,
    TokenHolder,
)
from tessera_client.testing import find_tessera

pytestmark = pytest.mark.e2e

if find_tessera() is None and os.environ.get("TESSERA_E2E_REQUIRED") == "1":
    os.environ["TESSERA_SERVER_REQUIRED"] = "1"  # the fixture then fails instead of skipping

SERVICE = "svc@acme.test"


@pytest.fixture(scope="module")
def server(tessera_server):
    tessera_server.create_permission("report:read", "read reports")
    tessera_server.create_role("report-reader", ["report:read"])
    tessera_server.create_member(SERVICE, roles=["report-reader"])
    return tessera_server


def me(server, token: str) -> httpx.Response:
    return server.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_the_access_token_carries_the_roles_and_the_sdk_reads_them(server):
    with TesseraClient(server.url, tenant_ids=[server.tenant_id]) as client:
        principal = client.verify_token(server.token(SERVICE))
        assert principal.tenant_id == server.tenant_id
        assert principal.roles == ("report-reader",)
        assert client.check("report:read", "report", principal=principal)


def test_the_server_challenge_follows_rfc_6750(server):
    bare = server.http.get("/api/v1/auth/me")
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == 'Bearer realm="tessera"'
    bad = me(server, "not-a-token")
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'Bearer realm="tessera", error="invalid_token"'


def test_the_holder_logs_in_refreshes_and_the_new_token_works(server):
    with TokenHolder.login(server.url, SERVICE, server.password, tenant=server.tenant) as holder:
        first = holder.access_token()
        assert me(server, first).status_code == 200
        tokens = holder.refresh()
        assert tokens.access_token != first
        assert me(server, holder.access_token()).status_code == 200
        assert holder.refresh_count == 1


def test_benign_retry_after_a_concurrent_refresh_uses_the_winners_tokens(server):
    """Two workers of one service share the session (one store); both spend the same refresh
    token at once. Tessera answers the loser 401 without revoking the session (the same client,
    moments later, replacement unused); the loser takes the winner's tokens, and the session
    keeps working — with one refresh request per worker, no loop."""
    store = MemoryTokenStore()
    first = TokenHolder.login(
        server.url, SERVICE, server.password, tenant=server.tenant, store=store
    )
    second = TokenHolder(server.url, store=store)
    stale = store.load()
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def spend(name: str, holder: TokenHolder) -> None:
        barrier.wait()
        try:
            results[name] = holder._refresh(stale)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[name] = exc

    threads = [
        threading.Thread(target=spend, args=("first", first)),
        threading.Thread(target=spend, args=("second", second)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results["first"] == results["second"] == store.load(), results
    assert first.refresh_count == second.refresh_count == 1
    assert me(server, store.load().access_token).status_code == 200  # the session lives on
    assert me(server, second.refresh().access_token).status_code == 200  # and refreshes again
    first.close()
    second.close()


def test_a_spent_refresh_token_without_a_winner_is_refused_once(server):
    with TokenHolder.login(server.url, SERVICE, server.password, tenant=server.tenant) as holder:
        stale = holder.tokens
        holder.refresh()
        other = TokenHolder(server.url, stale, winner_wait=0.1)  # its own store: no winner
        with pytest.raises(TesseraUnauthenticated):
            other.refresh()
        assert other.refresh_count == 1
        other.close()


async def test_the_async_holder_refreshes_against_tessera(server):
    holder = await AsyncTokenHolder.login(
        server.url, SERVICE, server.password, tenant=server.tenant
    )
    first = await holder.access_token()
    tokens = await holder.refresh()
    assert tokens.access_token != first
    answer = await asyncio.to_thread(me, server, await holder.access_token())
    assert answer.status_code == 200
    await holder.aclose()
