"""The notification subscriber against a local WebSocket server (bounded in time)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tessera_client import TesseraClient
from tessera_client.realtime import NotificationSubscriber, TicketRefused

websockets_server = pytest.importorskip("websockets.asyncio.server")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str | None, str | None]] = []

    def __call__(self, user_id=None, tenant_id=None) -> None:
        self.calls.append((user_id, tenant_id))


def test_handle_maps_events_to_invalidations():
    recorder = Recorder()
    sub = NotificationSubscriber("ws://x/ws/notifications/", token="t", invalidate=recorder)
    assert sub.handle(json.dumps({"type": "permissions.changed", "user_id": 7, "tenant_id": "t1"}))
    assert sub.handle(json.dumps({"type": "membership.changed", "data": {"user_id": "u2"}}))
    assert sub.handle(json.dumps({"type": "permissions.changed", "tenant_id": "t3"}))
    assert sub.handle(json.dumps({"type": "session.revoked"}))
    assert not sub.handle(json.dumps({"type": "security.alert", "user_id": "u"}))
    assert not sub.handle("not json")
    assert not sub.handle(json.dumps(["permissions.changed"]))
    assert recorder.calls == [("7", "t1"), ("u2", None), (None, "t3"), (None, None)]
    assert sub.events_seen == 4


def test_for_client_builds_the_websocket_and_ticket_urls():
    with TesseraClient("https://iam.example.com", any_tenant=True) as client:
        sub = NotificationSubscriber.for_client(client, token="t")
        assert sub.url == "wss://iam.example.com/ws/notifications/"
        assert sub.ticket_url == "https://iam.example.com/api/v1/auth/ws-ticket"
    with TesseraClient("http://127.0.0.1:8000", any_tenant=True) as client:
        sub = NotificationSubscriber.for_client(client, token="t")
        assert sub.url == "ws://127.0.0.1:8000/ws/notifications/"
        assert sub.ticket_url == "http://127.0.0.1:8000/api/v1/auth/ws-ticket"
    standalone = NotificationSubscriber(
        "wss://h:8443/ws/notifications/", token="t", invalidate=print
    )
    assert standalone.ticket_url == "https://h:8443/api/v1/auth/ws-ticket"


def test_the_cache_serves_only_while_the_subscribers_stream_is_connected():
    with TesseraClient("http://127.0.0.1:8000", any_tenant=True, decision_cache=60) as client:
        sub = NotificationSubscriber.for_client(client, token="t")
        key = client.cache.key(("u", "t"), "check", {"action": "doc:read"})
        client.cache.put(key, True, tenant_id="t", user_ids=["u"], generation=0)
        assert client.cache.get(key) is None  # not connected yet: every decision is live
        sub.connected.set()
        assert client.cache.get(key) is True
        sub.connected.clear()  # the stream is cut
        assert client.cache.get(key) is None


def test_exactly_one_credential():
    with pytest.raises(ValueError):
        NotificationSubscriber("ws://x/ws/notifications/", invalidate=print)
    with pytest.raises(ValueError):
        NotificationSubscriber("ws://x/ws/notifications/", token="a", api_key="b", invalidate=print)
    with TesseraClient("http://127.0.0.1:8000", api_key="tsk_abc_def", any_tenant=True) as client:
        assert NotificationSubscriber.for_client(client)._credential == "tsk_abc_def"


def _ticket_service(seen: list[str], status: int = 200) -> httpx.AsyncClient:
    counter = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal counter
        counter += 1
        seen.append(request.headers["Authorization"])
        assert request.method == "POST" and request.url.path == "/api/v1/auth/ws-ticket"
        if status != 200:
            return httpx.Response(status, json={"detail": "no notification:read"})
        return httpx.Response(200, json={"ticket": f"wst_{counter} x", "expires_in": 30})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_refused_ticket_raises():
    seen: list[str] = []
    sub = NotificationSubscriber(
        "ws://x/ws/notifications/",
        api_key="tsk_k",
        invalidate=print,
        http=_ticket_service(seen, 403),
    )
    with pytest.raises(TicketRefused) as refused:
        await sub.ticket()
    assert refused.value.status == 403 and seen == ["Bearer tsk_k"]


async def test_subscriber_invalidates_and_reconnects():
    recorder = Recorder()
    tokens_seen: list[str] = []
    connections = 0

    async def handler(ws):
        nonlocal connections
        connections += 1
        tokens_seen.append(ws.request.path)
        await ws.send(
            json.dumps({"type": "permissions.changed", "user_id": "u1", "tenant_id": "t"})
        )
        if connections == 1:
            await ws.close()  # drop the first connection: the subscriber must come back
            return
        await ws.wait_closed()

    async with websockets_server.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]

        async def token() -> str:
            return "the-access-token"

        authorizations: list[str] = []
        sub = NotificationSubscriber(
            f"ws://127.0.0.1:{port}/ws/notifications/",
            token=token,
            http=_ticket_service(authorizations),
            invalidate=recorder,
            reconnect_delay=0.01,
            open_timeout=2,
        )
        task = asyncio.create_task(sub.run())
        try:
            async with asyncio.timeout(10):
                while connections < 2 or sub.events_seen < 2:
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    # a fresh ticket for each connection, asked with the token; the token never in the URL
    assert tokens_seen[:2] == [
        "/ws/notifications/?ticket=wst_1%20x",
        "/ws/notifications/?ticket=wst_2%20x",
    ]
    assert authorizations[:2] == ["Bearer the-access-token"] * 2
    assert not any("the-access-token" in path for path in tokens_seen)
    assert recorder.calls.count(("u1", "t")) == 2
    assert (None, None) in recorder.calls  # the whole cache dropped on (re)connection
