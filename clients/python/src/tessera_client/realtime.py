"""Invalidate the decision cache from Tessera's WebSocket notifications (optional).

    from tessera_client.realtime import NotificationSubscriber

    # an API key holding `notification:read` (a service account's): the tenant-wide stream
    subscriber = NotificationSubscriber.for_client(client, api_key="tsk_...")
    # or a person's access token (a callable is asked again on each reconnection)
    subscriber = NotificationSubscriber.for_client(client, token=lambda: service_token())
    task = asyncio.create_task(subscriber.run())   # until cancelled; reconnects by itself

Needs the `websockets` package (`pip install tessera-client[realtime]`); the rest of the SDK does
not. Before each connection the subscriber asks `POST /api/v1/auth/ws-ticket` with its credential
(`Authorization: Bearer <token or key>`) for a short-lived single-use ticket, then connects to
`/ws/notifications/?ticket=...`: the credential itself never travels in a URL. On each
`permissions.changed` (also `membership.changed` and `session.revoked`) event it calls
`invalidate(user_id=..., tenant_id=...)` with what the event names — everything when it names
neither. On every (re)connection it drops the whole cache, since events may have been missed
while disconnected. Made with `for_client`, it also gates that client's cache: the cache serves
only while the stream is connected; cut, every decision is asked live (fail closed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

log = logging.getLogger("tessera_client")

INVALIDATING = frozenset({"permissions.changed", "membership.changed", "session.revoked"})
TICKET_PATH = "/api/v1/auth/ws-ticket"
NOTIFICATIONS_PATH = "/ws/notifications/"

Invalidate = Callable[..., Any]
TokenSource = str | Callable[[], str | Awaitable[str]]


class TicketRefused(Exception):
    """Tessera did not issue a WebSocket ticket for the credential (401, 403, …)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"ws-ticket refused ({status}): {detail}")
        self.status = status


def _ids(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    data = event.get("data") if isinstance(event.get("data"), Mapping) else {}
    user = event.get("user_id") or event.get("subject_id") or data.get("user_id")
    tenant = event.get("tenant_id") or data.get("tenant_id")
    return (None if user is None else str(user), None if tenant is None else str(tenant))


def _http_base(ws_url: str) -> str:
    """`https://host` for `wss://host/ws/notifications/` (and http for ws)."""
    scheme, _, rest = ws_url.partition("://")
    host = rest.split("/", 1)[0]
    return ("https" if scheme == "wss" else "http") + "://" + host


class NotificationSubscriber:
    def __init__(
        self,
        url: str,
        *,
        invalidate: Invalidate,
        token: TokenSource | None = None,
        api_key: TokenSource | None = None,
        ticket_url: str | None = None,
        http: httpx.AsyncClient | None = None,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
        open_timeout: float = 10.0,
    ) -> None:
        """`url`: the WebSocket URL (`wss://host/ws/notifications/`). The credential that asks
        the tickets: `token` (an access token) or `api_key` (`tsk_…`, holding
        `notification:read` for the tenant-wide stream) — a string or a (async) callable.
        `ticket_url` defaults to the same host's `/api/v1/auth/ws-ticket`; `http` is the
        httpx.AsyncClient used to ask it (one of its own by default)."""
        if (token is None) == (api_key is None):
            raise ValueError("pass exactly one credential: token= or api_key=")
        self.url = url
        self.ticket_url = ticket_url or _http_base(url) + TICKET_PATH
        credential = token if token is not None else api_key
        assert credential is not None
        self._credential: TokenSource = credential
        self._http = http
        self._invalidate = invalidate
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.open_timeout = open_timeout
        self.connected = asyncio.Event()
        self.events_seen = 0

    @classmethod
    def for_client(
        cls,
        client: Any,
        *,
        token: TokenSource | None = None,
        api_key: TokenSource | None = None,
        **kwargs: Any,
    ) -> NotificationSubscriber:
        """A subscriber for the Tessera `client` talks to, invalidating `client`'s cache.
        Without `token` or `api_key` it uses the client's own `api_key`."""
        if token is None and api_key is None:
            api_key = getattr(client, "api_key", None)
        base = client.base_url
        ws = (
            "wss://" + base[len("https://") :]
            if base.startswith("https://")
            else "ws://" + base[7:]
        )
        subscriber = cls(
            ws + NOTIFICATIONS_PATH,
            token=token,
            api_key=api_key,
            ticket_url=base + TICKET_PATH,
            invalidate=client.invalidate,
            **kwargs,
        )
        cache = getattr(client, "cache", None)
        if cache is not None:
            cache.serve_only_while(subscriber.connected.is_set)
        return subscriber

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

    async def _credential_value(self) -> str:
        value = self._credential() if callable(self._credential) else self._credential
        if isinstance(value, Awaitable):
            value = await value
        return str(value)

    async def ticket(self) -> str:
        """A fresh single-use ticket from Tessera (TicketRefused when it says no)."""
        headers = {"Authorization": f"Bearer {await self._credential_value()}"}
        if self._http is not None:
            response = await self._http.post(self.ticket_url, headers=headers)
        else:
            async with httpx.AsyncClient(timeout=self.open_timeout) as http:
                response = await http.post(self.ticket_url, headers=headers)
        if response.status_code != 200:
            try:
                detail = str(response.json().get("detail", ""))
            except ValueError:
                detail = response.text[:200]
            raise TicketRefused(response.status_code, detail)
        return str(response.json()["ticket"])

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
                url = f"{self.url}?ticket={quote(await self.ticket(), safe='')}"
                async with connect(url, open_timeout=self.open_timeout) as ws:
                    self._invalidate()  # events may have been missed while disconnected
                    self.connected.set()
                    delay = self.reconnect_delay
                    async for message in ws:
                        self.handle(message)
            except asyncio.CancelledError:
                self.connected.clear()  # stopped: the gated cache falls back to live checks
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: wait, then reconnect
                log.warning("tessera_client: notifications connection lost: %r", exc)
            self.connected.clear()
            self._invalidate()
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
            delay = min(delay * 2, self.max_reconnect_delay)
