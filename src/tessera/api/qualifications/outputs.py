"""What the qualifications endpoints answer, and the shaping into it."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from ninja import Schema

from tessera.engine import Qualification
from tessera.engine.qualifications import valid_at
from tessera.qualifications.models import QualificationRecord, QualificationType


class QualificationTypeOut(Schema):
    id: str
    code: str
    name: str
    kind: str
    validity_days: int | None
    created_at: datetime


class QualificationTypePage(Schema):
    items: list[QualificationTypeOut]
    next_cursor: str | None


class QualificationRecordOut(Schema):
    id: str
    user_id: str
    type: str
    type_name: str
    kind: str
    level: int
    valid_from: datetime
    valid_until: datetime | None
    valid_now: bool
    evidence: str
    verified_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str
    created_at: datetime


class QualificationRecordPage(Schema):
    items: list[QualificationRecordOut]
    next_cursor: str | None


def type_as_dict(entry: QualificationType) -> dict:
    return {
        "id": str(entry.pk),
        "code": entry.code,
        "name": entry.name,
        "kind": entry.kind,
        "validity_days": entry.validity_days,
        "created_at": entry.created_at,
    }


def record_as_dict(record: QualificationRecord, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    window = Qualification(record.type.code, record.level, record.valid_from, record.valid_until)
    return {
        "id": str(record.pk),
        "user_id": str(record.membership.user_id),
        "type": record.type.code,
        "type_name": record.type.name,
        "kind": record.type.kind,
        "level": record.level,
        "valid_from": record.valid_from,
        "valid_until": record.valid_until,
        "valid_now": record.revoked_at is None and valid_at(window, now),
        "evidence": record.evidence,
        "verified_by": str(record.verified_by.user_id) if record.verified_by else None,
        "revoked_at": record.revoked_at,
        "revoked_by": str(record.revoked_by.user_id) if record.revoked_by else None,
        "revoke_reason": record.revoke_reason,
        "created_at": record.created_at,
    }
