"""WS /ws/notifications/: authenticated by a single-use ticket (`?ticket=`) or the session cookie.

Tickets come from `POST /api/v1/auth/ws-ticket` (see tessera.realtime.tickets); an access token is
never accepted in the URL (`?token=` is refused), so URLs in access logs and proxies hold nothing
reusable. A connection without valid credentials is accepted and closed at once with code 4401,
so clients can tell "not authenticated" from a network failure. Cookie connections must come from
an allowed origin (no cross-site WebSocket hijacking).

The socket follows its credential while it is open:
- it closes (4401) when its session is revoked (the `session.revoked` push), when the session
  expires (a timer fires just past its idle or absolute expiry, re-checks, and sleeps again if
  activity moved the idle expiry), and at the latest `WS_RECHECK_SECONDS` after its credential
  ended otherwise (deactivation, an API key revoked or stripped of `notification:read`): the timer
  re-checks the live state;
- its groups follow role changes: on `permissions.changed` or `membership.changed` (and on each
  timer tick) it re-reads whether the member administers the tenant, joining or leaving the
  administrators' group, and `security.alert` is only ever forwarded to a current administrator.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone
from django.utils.http import is_same_domain

from tessera import metrics
from tessera.access.bridge.guard import scopes_allow
from tessera.access.bridge.policy import member_policy
from tessera.authn.errors import TokenInvalid
from tessera.authn.models import ApiKey, Session
from tessera.authn.request_auth import SESSION_COOKIE, cookie_claims
from tessera.authn.session_state import access_state
from tessera.engine import Context, Resource, decide
from tessera.origins import allowed_origins
from tessera.realtime.groups import (
    api_key_group,
    tenant_admins_group,
    tenant_group,
    tenant_stream_group,
    user_group,
)
from tessera.realtime.tickets import NOTIFICATION_READ, ticket_redeem
from tessera.tenancy.models import Membership

CLOSE_UNAUTHENTICATED = 4401
ADMIN_ACTION = "tenant:update"


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _cookie(scope, name: str) -> str | None:
    for part in _header(scope, b"cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _origin_allowed(scope) -> bool:
    """No Origin (not a browser), an allowed origin (tessera.origins), or one of our hosts."""
    origin = _header(scope, b"origin")
    if not origin:
        return True
    if origin.strip().lower().rstrip("/") in allowed_origins():
        return True
    host = urlparse(origin).hostname or ""
    return any(is_same_domain(host, pattern) for pattern in settings.ALLOWED_HOSTS)


def recheck_seconds() -> float:
    return float(getattr(settings, "WS_RECHECK_SECONDS", 30))


def authenticate_scope(scope) -> dict | None:
    """{user_id, session_id, api_key_id, tenant_id, membership_id, tenant_wide, is_admin} for
    live credentials, else None."""
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if "token" in params:
        return None  # access tokens do not travel in URLs: ask POST /api/v1/auth/ws-ticket
    if "ticket" in params:
        claims = ticket_redeem(params["ticket"][0])
        if claims is None:
            return None
        identity = {
            "user_id": claims.user_id,
            "session_id": claims.session_id,
            "api_key_id": claims.api_key_id,
            "tenant_id": claims.tenant_id,
            "membership_id": claims.membership_id,
            "tenant_wide": claims.tenant_wide,
        }
    else:
        value = _cookie(scope, SESSION_COOKIE)
        if not value or not _origin_allowed(scope):
            return None
        try:
            sid, uid, tid, mid = cookie_claims(value)
        except TokenInvalid:
            return None
        identity = {
            "user_id": str(uid),
            "session_id": str(sid),
            "api_key_id": None,
            "tenant_id": str(tid) if tid else None,
            "membership_id": str(mid) if mid else None,
            "tenant_wide": False,
        }
    return identity_check(identity)


def identity_check(identity: dict) -> dict | None:
    """The identity with `is_admin` re-read, while its credential is live; None once it is not."""
    now = timezone.now()
    mid, tid = identity["membership_id"], identity["tenant_id"]
    if identity["api_key_id"] is not None:
        return {**identity, "is_admin": False} if _api_key_live(identity, now) else None
    state = access_state(
        session_id=identity["session_id"], tenant_id=tid, membership_id=mid, now=now
    )
    if not state.session_ok or (mid is not None and not state.membership_ok):
        return None
    is_admin = _member_may(mid, state, ADMIN_ACTION, mfa=True) if mid else False
    return {**identity, "is_admin": is_admin, "ends_at": _session_end(identity["session_id"])}


def _session_end(session_id) -> float | None:
    """When the session expires if nothing moves it (idle or absolute), as a timestamp."""
    row = (
        Session.objects.filter(pk=session_id)
        .values_list("expires_at", "absolute_expires_at")
        .first()
    )
    return min(row).timestamp() if row else None


def _api_key_live(identity: dict, now) -> bool:
    """The key is unrevoked, unexpired, its membership active, and it still holds
    `notification:read` (its scopes and its owner's policy)."""
    row = (
        ApiKey.objects.filter(
            pk=identity["api_key_id"],
            revoked_at__isnull=True,
            membership_id=identity["membership_id"],
        )
        .values_list("expires_at", "scopes")
        .first()
    )
    if row is None or (row[0] is not None and row[0] <= now):
        return False
    if not scopes_allow(row[1] or [], NOTIFICATION_READ):
        return False
    state = access_state(
        session_id=None,
        tenant_id=identity["tenant_id"],
        membership_id=identity["membership_id"],
        now=now,
    )
    return state.membership_ok and _member_may(
        identity["membership_id"], state, NOTIFICATION_READ, mfa=False
    )


def _member_may(membership_id, state, action: str, *, mfa: bool) -> bool:
    membership = Membership.objects.filter(pk=membership_id).first()
    if membership is None:
        return False
    found = member_policy(membership, state.tenant_version, state.membership_version)
    verified = mfa and getattr(state, "mfa_verified_at", None) is not None
    context = Context(now=timezone.now(), mfa_verified=verified)
    resource = Resource(action.split(":", 1)[0])
    return decide(found.policy, found.subject, action, resource, context).allowed


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    identity: dict | None = None

    async def connect(self):
        self.joined: set[str] = set()
        self._lock = asyncio.Lock()
        self._watch: asyncio.Task | None = None
        self.identity = await database_sync_to_async(authenticate_scope)(self.scope)
        await self.accept()
        if self.identity is None:
            metrics.websocket_refused()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        metrics.websocket_opened()
        self.counted = True
        await self._sync_groups()
        self._watch = asyncio.ensure_future(self._watch_credential())
        await self.send_json({"type": "hello", "groups": len(self.joined)})

    def _groups(self) -> set[str]:
        identity = self.identity
        if identity is None:
            return set()
        tid = identity["tenant_id"]
        groups = {api_key_group(identity["api_key_id"])} if identity["api_key_id"] else set()
        if identity["tenant_wide"]:
            return groups | {tenant_stream_group(tid)}
        groups.add(user_group(identity["user_id"]))
        if tid:
            groups.add(tenant_group(tid))
            if identity["is_admin"]:
                groups.add(tenant_admins_group(tid))
        return groups

    async def _sync_groups(self) -> None:
        wanted = self._groups()
        for group in sorted(wanted - self.joined):
            await self.channel_layer.group_add(group, self.channel_name)
        for group in sorted(self.joined - wanted):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = wanted

    async def _recheck(self) -> bool:
        """Re-read the credential; close the socket once it is dead. True while it lives."""
        async with self._lock:
            if self.identity is None:
                return False
            identity = await database_sync_to_async(identity_check)(self.identity)
            self.identity = identity
            await self._sync_groups()
        if identity is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        return True

    def _next_check_in(self) -> float:
        """Seconds until the next check: the interval, or just past the session's expiry."""
        delay = recheck_seconds()
        ends_at = (self.identity or {}).get("ends_at")
        if ends_at is not None:
            delay = min(delay, max(ends_at - timezone.now().timestamp(), 0) + 0.05)
        return delay

    async def _watch_credential(self) -> None:
        while await asyncio.sleep(self._next_check_in(), result=True):
            if not await self._recheck():
                return

    async def disconnect(self, code):
        if getattr(self, "counted", False):
            self.counted = False
            metrics.websocket_closed()
        watch = getattr(self, "_watch", None)
        if watch is not None and watch is not asyncio.current_task():
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watch
        for group in getattr(self, "joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = set()

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def notify(self, event):
        identity = self.identity
        if identity is None:
            return
        payload = event["payload"]
        kind = payload.get("type")
        if kind == "credential.revoked":  # this socket's API key: never forwarded
            await self._recheck()
            return
        if kind == "security.alert" and not identity.get("is_admin"):
            return  # queued before a demotion was seen: never for a former administrator
        await self.send_json(payload)
        if identity["tenant_wide"]:
            return
        if kind == "session.revoked" and payload.get("session_id") == identity.get("session_id"):
            self.identity = None
            await self._sync_groups()
            await self.close(code=CLOSE_UNAUTHENTICATED)
        elif kind in ("permissions.changed", "membership.changed"):
            await self._recheck()
