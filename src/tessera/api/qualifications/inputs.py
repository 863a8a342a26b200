"""What the qualifications endpoints accept."""

from __future__ import annotations

from ninja import Schema

from tessera.api.instants import Instant


class QualificationTypeIn(Schema):
    code: str
    name: str
    kind: str = "certification"
    validity_days: int | None = None


class QualificationRecordIn(Schema):
    type: str
    level: int
    valid_from: Instant | None = None
    valid_until: Instant | None = None
    evidence: str = ""


class QualificationRevokeIn(Schema):
    reason: str = ""
