"""Writing audit events: inside the caller's transaction, appended to the tenant's hash chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from tessera.audit.models import ActorType, AuditChain, AuditEvent

PLATFORM_CHAIN = "platform"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it; built from the request's principal, or `Actor.system()`."""

    type: str = ActorType.SYSTEM
    user_id: Any = None
    membership_id: Any = None
    api_key_id: Any = None
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""

    @classmethod
    def system(cls) -> Actor:
        return cls()


def chain_key(tenant_id) -> str:
    return str(tenant_id) if tenant_id else PLATFORM_CHAIN


def event_digest(event: AuditEvent) -> str:
    """SHA-256 over the event's content and the previous hash (canonical JSON)."""
    body = {
        "id": str(event.id),
        "seq": event.seq,
        "chain": event.chain,
        "tenant": str(event.tenant_id) if event.tenant_id else None,
        "actor_type": event.actor_type,
        "actor_user_id": str(event.actor_user_id) if event.actor_user_id else None,
        "actor_membership_id": str(event.actor_membership_id)
        if event.actor_membership_id
        else None,
        "actor_api_key_id": str(event.actor_api_key_id) if event.actor_api_key_id else None,
        "type": event.type,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "changes": event.changes,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "risk_score": event.risk_score,
        "created_at": event.created_at.isoformat(),
        "prev_hash": event.prev_hash,
    }
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def audit_record(
    *,
    type: str,
    actor: Actor | None = None,
    tenant_id=None,
    resource_type: str = "",
    resource_id: Any = "",
    changes: dict[str, Any] | None = None,
    risk_score: int | None = None,
) -> AuditEvent:
    """Append one event to its tenant's chain, in the current transaction (opened if none)."""
    actor = actor or Actor.system()
    key = chain_key(tenant_id)
    with transaction.atomic():
        AuditChain.objects.get_or_create(key=key)
        head = AuditChain.objects.select_for_update().get(key=key)
        event = AuditEvent(
            seq=head.length + 1,
            chain=key,
            tenant_id=tenant_id,
            actor_type=actor.type,
            actor_user_id=actor.user_id,
            actor_membership_id=actor.membership_id,
            actor_api_key_id=actor.api_key_id,
            type=type,
            resource_type=resource_type,
            resource_id=str(resource_id or ""),
            changes=changes,
            ip=actor.ip,
            user_agent=(actor.user_agent or "")[:512],
            request_id=actor.request_id,
            risk_score=risk_score,
            created_at=timezone.now(),
            prev_hash=head.last_hash,
        )
        event.hash = event_digest(event)
        event.save(force_insert=True)
        AuditChain.objects.filter(key=key).update(last_hash=event.hash, length=event.seq)
    return event
