"""Reads of the audit trail: filtered, newest first, keyset-paginated; chain verification."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from tessera.audit.models import AuditChain, AuditEvent, AuditEventType
from tessera.audit.services import chain_key, event_digest, event_pii_digest
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
    redacted: int = 0


def personal_fields_broken(event: AuditEvent) -> str | None:
    """Why the event's personal fields do not match its commitment; None when they do.

    Unredacted: `pii_hash` must recompute from ip, user_agent, changes and the salt (so any
    change to them is caught). Redacted: the fields must be empty, and the stored `pii_hash` is
    trusted — the event hash, which covers it, still catches any change to it.
    """
    if event.redacted_at is None:
        if event_pii_digest(event) != event.pii_hash:
            return "its personal fields were altered"
        return None
    if event.ip is not None or event.user_agent or event.changes is not None or event.pii_salt:
        return "a redacted event carries personal fields again"
    return None


def audit_chain_verify(*, key: str, batch: int = 5000) -> ChainReport:
    """Walk one chain oldest first: every hash recomputes, links, and no position is missing.

    Redacted events (GDPR erasure) verify through their stored commitment: the chain detects any
    change to their other fields, to the order, or a removal, but not their blanked personal data.
    The walk follows positions, so it crosses month partitions on PostgreSQL; it starts after the
    prefix `tessera audit archive` moved out (`archived_length`, linked by `archived_last_hash`).
    """
    head = AuditChain.objects.filter(key=key).first()
    archived = head.archived_length if head is not None else 0
    prev_hash = head.archived_last_hash if head is not None else ""
    expected_seq, checked, redacted = archived + 1, 0, 0
    last_seq = archived
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
            broken = personal_fields_broken(event)
            if broken:
                return ChainReport(False, checked, str(event.id), broken)
            if event_digest(event) != event.hash:
                return ChainReport(False, checked, str(event.id), "its content was altered")
            redacted += event.redacted_at is not None
            prev_hash, expected_seq = event.hash, expected_seq + 1
        last_seq = rows[-1].seq

    head = AuditChain.objects.filter(key=key).first()
    if head is not None and (head.length != archived + checked or head.last_hash != prev_hash):
        return ChainReport(
            False, checked, None, "events were removed from the end of the chain", redacted
        )
    return ChainReport(True, checked, redacted=redacted)
