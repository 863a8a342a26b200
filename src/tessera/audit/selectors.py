"""Reads of the audit trail: filtered, newest first, keyset-paginated; chain verification."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.audit.services import chain_key, event_digest
from tessera.errors import ValidationFailed, field_error


@dataclass(frozen=True, slots=True)
class AuditFilters:
    actor_id: str | None = None
    type: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_filters_validate(
    *, actor_id=None, type=None, resource_type=None, resource_id=None, since=None, until=None
) -> AuditFilters:
    errors = []
    if actor_id:
        try:
            uuid.UUID(str(actor_id))
        except ValueError:
            errors.append(field_error("actor_id", "Not a user id."))
    types = None
    if type:
        types = [t.strip().upper() for t in type.split(",") if t.strip()]
        unknown = [t for t in types if t not in AuditEventType.values]
        if unknown:
            errors.append(field_error("type", f"Unknown event type(s): {', '.join(unknown)}."))
    if since and until and since > until:
        errors.append(field_error("since", "since is after until."))
    if errors:
        raise ValidationFailed("Invalid audit filters", errors=errors)
    return AuditFilters(
        actor_id=actor_id,
        type=",".join(types) if types else None,
        resource_type=resource_type,
        resource_id=resource_id,
        since=since,
        until=until,
    )


def audit_events_for_tenant(*, tenant, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The tenant's events matching the filters, newest first (by chain position)."""
    qs = AuditEvent.objects.filter(chain=chain_key(tenant.pk))
    if filters.actor_id:
        qs = qs.filter(actor_user_id=filters.actor_id)
    if filters.type:
        qs = qs.filter(type__in=filters.type.split(","))
    if filters.resource_type:
        qs = qs.filter(resource_type=filters.resource_type)
    if filters.resource_id:
        qs = qs.filter(resource_id=filters.resource_id)
    if filters.since:
        qs = qs.filter(created_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(created_at__lt=filters.until)
    return qs.order_by("-seq")


def audit_page(*, tenant, filters: AuditFilters, before_seq: int | None, limit: int):
    qs = audit_events_for_tenant(tenant=tenant, filters=filters)
    if before_seq is not None:
        qs = qs.filter(seq__lt=before_seq)
    rows = list(qs[: limit + 1])
    return rows[:limit], (rows[limit - 1].seq if len(rows) > limit else None)


def audit_iter(*, tenant, filters: AuditFilters, batch: int = 2000) -> Iterator[AuditEvent]:
    """Every matching event, newest first, fetched in keyset batches (constant memory)."""
    before = None
    while True:
        qs = audit_events_for_tenant(tenant=tenant, filters=filters)
        if before is not None:
            qs = qs.filter(seq__lt=before)
        rows = list(qs[:batch])
        if not rows:
            return
        yield from rows
        before = rows[-1].seq


@dataclass(frozen=True, slots=True)
class ChainReport:
    valid: bool
    checked: int
    first_broken: str | None = None
    reason: str | None = None


def audit_chain_verify(*, key: str, batch: int = 5000) -> ChainReport:
    """Walk one chain oldest first: every hash recomputes, links, and no position is missing."""
    prev_hash, expected_seq, checked = "", 1, 0
    last_seq = 0
    while True:
        rows = list(AuditEvent.objects.filter(chain=key, seq__gt=last_seq).order_by("seq")[:batch])
        if not rows:
            break
        for event in rows:
            checked += 1
            if event.seq != expected_seq:
                return ChainReport(False, checked, str(event.id), "an event is missing before it")
            if event.prev_hash != prev_hash:
                return ChainReport(False, checked, str(event.id), "its link to the previous event")
            if event_digest(event) != event.hash:
                return ChainReport(False, checked, str(event.id), "its content was altered")
            prev_hash, expected_seq = event.hash, expected_seq + 1
        last_seq = rows[-1].seq
    from tessera.audit.models import AuditChain

    head = AuditChain.objects.filter(key=key).first()
    if head is not None and (head.length != checked or head.last_hash != prev_hash):
        return ChainReport(False, checked, None, "events were removed from the end of the chain")
    return ChainReport(True, checked)
