"""WS /ws/notifications/: authenticated by `?token=<access JWT>` or the session cookie.

A connection without valid credentials is accepted and closed at once with code 4401, so clients
can tell "not authenticated" from a network failure. Cookie connections must come from an allowed
origin (no cross-site WebSocket hijacking).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone
from django.utils.http import is_same_domain

from tessera.realtime.groups import tenant_admins_group, tenant_group, user_group

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
    origin = _header(scope, b"origin")
    if not origin:
        return True
    host = urlparse(origin).hostname or ""
    return any(is_same_domain(host, pattern) for pattern in settings.ALLOWED_HOSTS)


def authenticate_scope(scope) -> dict | None:
    """{user_id, session_id, tenant_id, membership_id, is_admin} for live credentials, else None."""
    from tessera.authn.errors import TokenInvalid
    from tessera.authn.request_auth import SESSION_COOKIE, cookie_claims
    from tessera.authn.state import access_state
    from tessera.authn.tokens import access_token_verify

    token = parse_qs(scope.get("query_string", b"").decode()).get("token", [None])[0]
    try:
        if token:
            claims = access_token_verify(token)
            sid, uid, tid, mid = claims["sid"], claims["sub"], claims.get("tid"), claims.get("mid")
        else:
            value = _cookie(scope, SESSION_COOKIE)
            if not value or not _origin_allowed(scope):
                return None
            sid, uid, tid, mid = cookie_claims(value)
    except TokenInvalid:
        return None
    state = access_state(session_id=sid, tenant_id=tid, membership_id=mid, now=timezone.now())
    if not state.session_ok or (mid is not None and not state.membership_ok):
        return None
    return {
        "user_id": str(uid),
        "session_id": str(sid),
        "tenant_id": str(tid) if tid else None,
        "membership_id": str(mid) if mid else None,
        "is_admin": _is_tenant_admin(mid, state) if mid else False,
    }


def _is_tenant_admin(membership_id, state) -> bool:
    """Whether the member may administer the tenant (then they also get `security.alert`)."""
    from tessera.access.policy import member_policy
    from tessera.engine import Context, Resource, decide
    from tessera.tenancy.models import Membership

    membership = Membership.objects.filter(pk=membership_id).first()
    if membership is None:
        return False
    found = member_policy(membership, state.tenant_version, state.membership_version)
    context = Context(now=timezone.now(), mfa_verified=state.mfa_verified_at is not None)
    return decide(found.policy, found.subject, ADMIN_ACTION, Resource("tenant"), context).allowed


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.identity = await database_sync_to_async(authenticate_scope)(self.scope)
        await self.accept()
        if self.identity is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.joined = [user_group(self.identity["user_id"])]
        if self.identity["tenant_id"]:
            self.joined.append(tenant_group(self.identity["tenant_id"]))
            if self.identity["is_admin"]:
                self.joined.append(tenant_admins_group(self.identity["tenant_id"]))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json({"type": "hello", "groups": len(self.joined)})

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def notify(self, event):
        payload = event["payload"]
        await self.send_json(payload)
        if payload.get("type") == "session.revoked" and payload.get("session_id") == (
            self.identity or {}
        ).get("session_id"):
            await self.close(code=CLOSE_UNAUTHENTICATED)
