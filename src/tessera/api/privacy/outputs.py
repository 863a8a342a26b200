"""GDPR requests: the output schemas and the shaping of answers."""

from __future__ import annotations

from ninja import Schema


class ErasureOut(Schema):
    user_id: str
    membership_id: str
    identity_anonymized: bool
    revoked: dict[str, int]
    deleted: dict[str, int]
    audit_events_redacted: int
