"""Reads: the catalog, a member's records, and the records the engine sees."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import QuerySet

from tessera.engine import Qualification
from tessera.errors import NotFound
from tessera.qualifications.models import QualificationRecord, QualificationType
from tessera.tenancy.models import Membership, Tenant


def qualification_type_list(*, tenant: Tenant) -> QuerySet[QualificationType]:
    return QualificationType.objects.filter(tenant=tenant)


def qualification_record_list(*, membership: Membership) -> QuerySet[QualificationRecord]:
    """Every record of the member, revoked ones included (the history)."""
    return QualificationRecord.objects.filter(
        tenant_id=membership.tenant_id, membership=membership
    ).select_related("type", "membership", "verified_by", "revoked_by")


def qualification_record_get(*, membership: Membership, record_id) -> QualificationRecord:
    """One record of the member (404 for an unknown id or another member's or tenant's)."""
    try:
        key = uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound("No such qualification") from None
    found = qualification_record_list(membership=membership).filter(pk=key).first()
    if found is None:
        raise NotFound("No such qualification")
    return found


def qualifications_for_engine(membership: Membership, now: datetime) -> tuple[Qualification, ...]:
    """The member's records as the engine's subject holds them: the non-revoked ones not expired
    at `now` (future ones included: the engine checks each window at decision time), plus, per
    code, the one that expired last, so that an explanation can say "expired at …" rather than
    "missing" (an expired record never counts)."""
    rows = (
        QualificationRecord.objects.filter(
            membership_id=membership.pk, tenant_id=membership.tenant_id, revoked_at__isnull=True
        )
        .order_by("created_at", "id")
        .values_list("type__code", "level", "valid_from", "valid_until")
    )
    live: list[Qualification] = []
    expired: dict[str, Qualification] = {}
    for code, level, start, end in rows:
        record = Qualification(code, level, start, end)
        if end is None or end > now:
            live.append(record)
        elif code not in expired or end > (expired[code].valid_until or end):
            expired[code] = record
    return (*live, *expired.values())
