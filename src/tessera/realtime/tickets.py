"""WebSocket tickets: issued to a live credential, redeemed once, within `WS_TICKET_TTL` seconds.

A browser or SDK asks `POST /api/v1/auth/ws-ticket` with its usual credential (Bearer token,
session cookie with CSRF, or an API key holding `notification:read`), then opens
`/ws/notifications/?ticket=<ticket>`. The ticket is worthless once used or after ~30 s, so an
access log or proxy that keeps URLs keeps nothing reusable. Stored hashed in the database, so
every server process (with or without Redis) can redeem it exactly once: the redeeming DELETE
decides between two concurrent redeemers.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tessera.realtime.models import WebSocketTicket

TICKET_PREFIX = "wst_"
NOTIFICATION_READ = "notification:read"


@dataclass(frozen=True, slots=True)
class TicketClaims:
    user_id: str
    session_id: str | None
    api_key_id: str | None
    tenant_id: str | None
    membership_id: str | None
    tenant_wide: bool


def ticket_ttl() -> int:
    return int(getattr(settings, "WS_TICKET_TTL", 30))


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def ticket_issue(
    *,
    user_id,
    session_id=None,
    api_key_id=None,
    tenant_id=None,
    membership_id=None,
    tenant_wide: bool = False,
    now: datetime | None = None,
) -> tuple[str, int]:
    """(ticket, seconds it stays valid) for a credential the caller has already authenticated."""
    if session_id is None and api_key_id is None:
        raise ValueError("a ticket is bound to a session or an API key")
    now = now or timezone.now()
    raw = TICKET_PREFIX + secrets.token_urlsafe(32)
    ttl = ticket_ttl()
    WebSocketTicket.objects.create(
        ticket_hash=_digest(raw),
        user_id=user_id,
        session_id=session_id,
        api_key_id=api_key_id,
        tenant_id=tenant_id,
        membership_id=membership_id,
        tenant_wide=tenant_wide,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    return raw, ttl


def ticket_redeem(raw: str | None, *, now: datetime | None = None) -> TicketClaims | None:
    """The claims of a live, unused ticket — and it is spent; None for anything else."""
    if not raw or not raw.startswith(TICKET_PREFIX) or len(raw) > 128:
        return None
    now = now or timezone.now()
    row = (
        WebSocketTicket.objects.filter(ticket_hash=_digest(raw), expires_at__gt=now)
        .values_list(
            "pk",
            "user_id",
            "session_id",
            "api_key_id",
            "tenant_id",
            "membership_id",
            "tenant_wide",
        )
        .first()
    )
    if row is None:
        return None
    deleted, _ = WebSocketTicket.objects.filter(pk=row[0]).delete()
    if deleted != 1:
        return None  # a concurrent redeemer won
    _, uid, sid, kid, tid, mid, wide = row
    as_str = lambda v: str(v) if v is not None else None  # noqa: E731
    return TicketClaims(str(uid), as_str(sid), as_str(kid), as_str(tid), as_str(mid), wide)


def tickets_delete_expired(*, now: datetime | None = None) -> int:
    """Drop spent-by-time tickets (run by `tessera cleanup`)."""
    now = now or timezone.now()
    return WebSocketTicket.objects.filter(Q(expires_at__lte=now)).delete()[0]
