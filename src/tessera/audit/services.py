"""Writing audit events: inside the caller's transaction, appended to the tenant's hash chain.

An event's hash covers its content and the previous hash, but its personal fields (`ip`,
`user_agent`, `changes`) only through `pii_hash`, a SHA-256 commitment salted per event
(`pii_salt`, 128 random bits). `audit_redact` erases those fields and the salt (so that the
commitment of a low-entropy value such as an IP address cannot be brute-forced afterwards) and
the chain still verifies: `audit_chain_verify` recomputes the commitment of unredacted events and
trusts the stored one of redacted events.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from tessera import metrics
from tessera.audit.models import ActorType, AuditChain, AuditEvent

PLATFORM_CHAIN = "platform"

AuditObserver = Callable[[AuditEvent], object]
_observers: dict[str, list[AuditObserver]] = {}


def audit_observe(*, types: Iterable[str], observer: AuditObserver) -> None:
    """Call `observer(event)` after each recorded event of these types, in its transaction.

    Higher layers subscribe at start-up (`AppConfig.ready()`): threat detection watches logins and
    access changes this way, so this module imports nothing above it.
    """
    for event_type in types:
        subscribed = _observers.setdefault(event_type, [])
        if observer not in subscribed:
            subscribed.append(observer)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it; built from the request's principal, or `Actor.system()`."""

    type: str = ActorType.SYSTEM
    user_id: Any = None
    membership_id: Any = None
    api_key_id: Any = None
    ip: str | None = None
    impersonator_id: Any = None  # who acts through an impersonation session (RFC 8693 `act`)
    user_agent: str = ""
    request_id: str = ""

    @classmethod
    def system(cls) -> Actor:
        return cls()


def chain_key(tenant_id) -> str:
    return str(tenant_id) if tenant_id else PLATFORM_CHAIN


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def _stored_form(changes: dict[str, Any] | None) -> Any:
    """`changes` as the JSON column keeps them (datetimes, UUIDs, decimals become strings), so
    that any value a caller records can be stored and its commitment matches the stored form."""
    if changes is None:
        return None
    return json.loads(json.dumps(changes, cls=DjangoJSONEncoder))


def pii_digest(*, ip: str | None, user_agent: str, changes: Any, salt: str) -> str:
    """SHA-256 commitment to an event's personal fields (canonical JSON with the event's salt)."""
    body = {"ip": ip, "user_agent": user_agent, "changes": changes, "salt": salt}
    return hashlib.sha256(_canonical(body)).hexdigest()


def event_pii_digest(event: AuditEvent) -> str:
    return pii_digest(
        ip=event.ip, user_agent=event.user_agent, changes=event.changes, salt=event.pii_salt
    )


def event_digest(event: AuditEvent) -> str:
    """SHA-256 over the event's content and the previous hash (canonical JSON); the personal
    fields enter through their commitment `pii_hash` only."""
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
        "pii_hash": event.pii_hash,
        "request_id": event.request_id,
        "risk_score": event.risk_score,
        "created_at": event.created_at.isoformat(),
        "prev_hash": event.prev_hash,
    }
    if event.actor_impersonator_id:  # only then: the digests of earlier events stay as they were
        body["actor_impersonator_id"] = str(event.actor_impersonator_id)
    return hashlib.sha256(_canonical(body)).hexdigest()


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
    """Append one event to its tenant's chain, in the current transaction (opened if none).

    Inside a transaction it sets no savepoint of its own: an event that cannot be written fails
    the change it records (the caller's transaction rolls back whole), never just the event."""
    actor = actor or Actor.system()
    key = chain_key(tenant_id)
    with transaction.atomic(savepoint=False):
        head = AuditChain.objects.select_for_update().filter(key=key).first()
        if head is None:  # the chain's first event
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
            actor_impersonator_id=actor.impersonator_id,
            type=type,
            resource_type=resource_type,
            resource_id=str(resource_id or ""),
            changes=_stored_form(changes),
            ip=actor.ip,
            user_agent=(actor.user_agent or "")[:512],
            request_id=actor.request_id,
            risk_score=risk_score,
            created_at=timezone.now(),
            pii_salt=secrets.token_hex(16),
            prev_hash=head.last_hash,
        )
        event.pii_hash = event_pii_digest(event)
        event.hash = event_digest(event)
        event.save(force_insert=True)
        AuditChain.objects.filter(key=key).update(last_hash=event.hash, length=event.seq)
        for observer in _observers.get(type, ()):
            observer(event)
        transaction.on_commit(lambda: metrics.audit_event_written(type))
    return event


def audit_redact(*, events: models.QuerySet[AuditEvent] | Iterable[AuditEvent]) -> int:
    """Erase the personal fields of these events (GDPR erasure); returns how many it redacted.

    `ip`, `user_agent`, `changes` and the salt are blanked and `redacted_at` stamped; every other
    field, the order and the hashes stay, so the chain still verifies. Already redacted events are
    left alone. This is the one update of audit events there is: it bypasses the queryset's
    append-only guard on purpose, and the PostgreSQL trigger lets exactly this update through.
    """
    if isinstance(events, models.QuerySet):
        ids: Any = events.order_by().values("pk")
    else:
        ids = [event.pk for event in events]
    with transaction.atomic():
        target = AuditEvent.objects.filter(pk__in=ids, redacted_at__isnull=True)
        return models.QuerySet.update(
            target, ip=None, user_agent="", changes=None, pii_salt="", redacted_at=timezone.now()
        )
