"""The notification subscriber against a local WebSocket server (bounded in time)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tessera_client import TesseraClient
from tessera_client.realtime import NotificationSubscriber

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


def test_for_client_builds_the_websocket_url():
    with TesseraClient("https://iam.example.com", any_tenant=True) as client:
        sub = NotificationSubscriber.for_client(client, token="t")
        assert sub.url == "wss://iam.example.com/ws/notifications/"
    with TesseraClient("http://127.0.0.1:8000", any_tenant=True) as client:
        assert NotificationSubscriber.for_client(client, token="t").url == (
            "ws://127.0.0.1:8000/ws/notifications/"
        )


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
            return "tok en"

        sub = NotificationSubscriber(
            f"ws://127.0.0.1:{port}/ws/notifications/",
            token=token,
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
    assert tokens_seen[0] == "/ws/notifications/?token=tok%20en"
    assert recorder.calls.count(("u1", "t")) == 2
    assert (None, None) in recorder.calls  # the whole cache dropped on (re)connection
