"""Publishing notifications — only after the transaction that caused them commits.

Event shapes (JSON objects pushed on /ws/notifications/):

    {"type": "permissions.changed", "tenant_id": "<uuid>", "user_id": "<uuid>" | null}
    {"type": "session.revoked", "session_id": "<uuid>", "reason": "<why>", "user_id": "<uuid>",
     "tenant_id": "<uuid>" | null}
    {"type": "membership.changed", "tenant_id": "<uuid>", "user_id": "<uuid>", "status": "<status>"}
    {"type": "security.alert", "tenant_id": "<uuid>", "alert": "<rule>", "risk_score": <0-100>, ...}
    {"type": "impersonation.started" | "impersonation.ended", "tenant_id": "<uuid>",
     "user_id": "<uuid>", "impersonator_id": "<uuid>", "session_id": "<uuid>", "reason": "…",
     "ends_at": "<iso time>"}
    {"type": "qualification.expiring", "tenant_id": "<uuid>", "user_id": "<holder uuid>",
     "qualification_id": "<uuid>", "code": "<code>", "level": <1-5>, "valid_until": "<ISO 8601>"}

`user_id: null` in permissions.changed means "every member of the tenant may be affected"
(a role or tenant-wide change): clients re-read their permissions.

Who receives what: the person's own sockets get their permissions.changed, session.revoked and
membership.changed, and their impersonation.started/ended (someone acts as them); a tenant's
administrators also get membership.changed and security.alert; the holder and their manager get
qualification.expiring; the tenant-wide stream (an API key holding `notification:read`) gets every
member's
permissions.changed, session.revoked and membership.changed of that tenant only. A session bound
to no tenant is reported to the streams of the tenants its person is an active member of.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from tessera import notifications
from tessera.access.redis_breaker import (
    REDIS_ERRORS,
    redis_available,
    redis_configured,
    redis_failed,
)
from tessera.realtime.groups import (
    api_key_group,
    tenant_admins_group,
    tenant_group,
    tenant_stream_group,
    user_group,
)
from tessera.tenancy.models import Membership, MembershipStatus

logger = logging.getLogger("tessera.realtime")


def _send(group: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if redis_configured() and not redis_available():
        # Redis (the channel layer) is away: the push is lost; open sockets still re-check their
        # credential every WS_RECHECK_SECONDS (docs/operations/failures.md)
        logger.warning("Redis unavailable: %s to %s not published", payload.get("type"), group)
        return
    try:
        async_to_sync(_publish)(layer, group, {"type": "notify", "payload": payload})
    except REDIS_ERRORS as exc:  # refused, reset, or over REDIS_TIMEOUT (TimeoutError: OSError)
        redis_failed(exc)
        logger.warning("could not publish %s to %s: %s", payload.get("type"), group, exc)
    except Exception:  # a notification must never break the change that caused it
        logger.exception("could not publish %s to %s", payload.get("type"), group)


async def _publish(layer, group: str, message: dict[str, Any]) -> None:
    await asyncio.wait_for(layer.group_send(group, message), timeout=settings.REDIS_TIMEOUT)


def publish_after_commit(group: str, payload: dict[str, Any]) -> None:
    transaction.on_commit(lambda: _send(group, payload))


def notify_permissions_changed(*, tenant_id, user_id=None) -> None:
    payload = {
        "type": "permissions.changed",
        "tenant_id": str(tenant_id),
        "user_id": str(user_id) if user_id else None,
    }
    group = user_group(user_id) if user_id else tenant_group(tenant_id)
    publish_after_commit(group, payload)
    publish_after_commit(tenant_stream_group(tenant_id), payload)


def _member_tenants(user_id) -> list:
    return list(
        Membership.objects.filter(user_id=user_id, status=MembershipStatus.ACTIVE).values_list(
            "tenant_id", flat=True
        )
    )


def notify_session_revoked(*, user_id, session_id, reason: str = "", tenant_id=None) -> None:
    payload = {
        "type": "session.revoked",
        "session_id": str(session_id),
        "reason": reason,
        "user_id": str(user_id),
        "tenant_id": str(tenant_id) if tenant_id else None,
    }
    publish_after_commit(user_group(user_id), payload)
    for tid in [tenant_id] if tenant_id else _member_tenants(user_id):
        publish_after_commit(tenant_stream_group(tid), payload)


def notify_api_key_revoked(*, api_key_id) -> None:
    """Close, after commit, every socket the key opened (no event reaches their listeners)."""
    publish_after_commit(api_key_group(api_key_id), {"type": "credential.revoked"})


def notify_membership_changed(*, tenant_id, user_id, status: str) -> None:
    payload = {
        "type": "membership.changed",
        "tenant_id": str(tenant_id),
        "user_id": str(user_id),
        "status": status,
    }
    publish_after_commit(user_group(user_id), payload)
    publish_after_commit(tenant_admins_group(tenant_id), payload)
    publish_after_commit(tenant_stream_group(tenant_id), payload)


def notify_security_alert(*, tenant_id, alert: str, risk_score: int, **details: Any) -> None:
    payload = {
        "type": "security.alert",
        "tenant_id": str(tenant_id),
        "alert": alert,
        "risk_score": risk_score,
        **{k: (str(v) if v is not None else None) for k, v in details.items()},
    }
    publish_after_commit(tenant_admins_group(tenant_id), payload)


def notify_impersonation(
    *, event: str, tenant_id, user_id, impersonator_id, session_id, reason: str, ends_at
) -> None:
    """Tell the impersonated person, on their own sockets, that someone acts as them (or ended)."""
    payload = {
        "type": f"impersonation.{event}",
        "tenant_id": str(tenant_id),
        "user_id": str(user_id),
        "impersonator_id": str(impersonator_id),
        "session_id": str(session_id),
        "reason": reason,
        "ends_at": ends_at.isoformat() if ends_at is not None else None,
    }
    publish_after_commit(user_group(user_id), payload)


def notify_qualification_expiring(
    *, tenant_id, user_ids, holder_user_id, record_id, code: str, level: int, valid_until
) -> None:
    """A qualification record expires soon: to the holder's and their manager's sockets."""
    payload = {
        "type": "qualification.expiring",
        "tenant_id": str(tenant_id),
        "user_id": str(holder_user_id),
        "qualification_id": str(record_id),
        "code": code,
        "level": level,
        "valid_until": valid_until.isoformat() if valid_until else None,
    }
    for user_id in dict.fromkeys(str(u) for u in user_ids):
        publish_after_commit(user_group(user_id), payload)


def subscribe() -> None:
    """Publish what the domain announces (`tessera.notifications`); called at app start."""
    notifications.permissions_changed.subscribe(notify_permissions_changed)
    notifications.membership_changed.subscribe(notify_membership_changed)
    notifications.session_revoked.subscribe(notify_session_revoked)
    notifications.api_key_revoked.subscribe(notify_api_key_revoked)
    notifications.security_alert.subscribe(notify_security_alert)
    notifications.impersonation_changed.subscribe(notify_impersonation)
    notifications.qualification_expiring.subscribe(notify_qualification_expiring)
