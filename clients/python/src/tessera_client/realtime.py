"""Invalidate the decision cache from Tessera's WebSocket notifications (optional).

    from tessera_client.realtime import NotificationSubscriber

    subscriber = NotificationSubscriber.for_client(client, token=lambda: service_token())
    task = asyncio.create_task(subscriber.run())   # until cancelled; reconnects by itself

Needs the `websockets` package (`pip install tessera-client[realtime]`); the rest of the SDK does
not. The subscriber connects to `/ws/notifications/?token=...`, and on each `permissions.changed`
(also `membership.changed` and `session.revoked`) event calls
`invalidate(user_id=..., tenant_id=...)` with what the event names — everything when it names
neither. On every (re)connection it drops the
whole cache, since events may have been missed while disconnected.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger("tessera_client")

INVALIDATING = frozenset({"permissions.changed", "membership.changed", "session.revoked"})

Invalidate = Callable[..., Any]
TokenSource = str | Callable[[], str | Awaitable[str]]


def _ids(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    data = event.get("data") if isinstance(event.get("data"), Mapping) else {}
    user = event.get("user_id") or event.get("subject_id") or data.get("user_id")
    tenant = event.get("tenant_id") or data.get("tenant_id")
    return (None if user is None else str(user), None if tenant is None else str(tenant))


class NotificationSubscriber:
    def __init__(
        self,
        url: str,
        *,
        token: TokenSource,
        invalidate: Invalidate,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
        open_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self._token = token
        self._invalidate = invalidate
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.open_timeout = open_timeout
        self.connected = asyncio.Event()
        self.events_seen = 0

    @classmethod
    def for_client(
        cls, client: Any, *, token: TokenSource, **kwargs: Any
    ) -> NotificationSubscriber:
        """A subscriber for the Tessera `client` talks to, invalidating `client`'s cache."""
        base = client.base_url
        ws = (
            "wss://" + base[len("https://") :]
            if base.startswith("https://")
            else "ws://" + base[7:]
        )
        return cls(ws + "/ws/notifications/", token=token, invalidate=client.invalidate, **kwargs)

    def handle(self, message: str | bytes) -> bool:
        """Act on one message; True when it invalidated something."""
        try:
            event = json.loads(message)
        except (ValueError, TypeError):
            return False
        if not isinstance(event, Mapping) or event.get("type") not in INVALIDATING:
            return False
        self.events_seen += 1
        user_id, tenant_id = _ids(event)
        self._invalidate(user_id=user_id, tenant_id=tenant_id)
        return True

    async def _token_value(self) -> str:
        token = self._token() if callable(self._token) else self._token
        if isinstance(token, Awaitable):
            token = await token
        return str(token)

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with capped exponential back-off."""
        try:
            from websockets.asyncio.client import connect
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "tessera_client.realtime needs the websockets package: "
                "pip install 'tessera-client[realtime]'"
            ) from exc
        from urllib.parse import quote

        delay = self.reconnect_delay
        while True:
            try:
                url = f"{self.url}?token={quote(await self._token_value(), safe='')}"
                async with connect(url, open_timeout=self.open_timeout) as ws:
                    self._invalidate()  # events may have been missed while disconnected
                    self.connected.set()
                    delay = self.reconnect_delay
                    async for message in ws:
                        self.handle(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: wait, then reconnect
                log.warning("tessera_client: notifications connection lost: %r", exc)
            self.connected.clear()
            self._invalidate()
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
            delay = min(delay * 2, self.max_reconnect_delay)
