"""/api/v1/audit-events: the output schemas and the shaping of answers."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class AuditPage(Schema):
    items: list[dict[str, Any]]
    next_cursor: str | None


class VerifyOut(Schema):
    valid: bool
    checked: int
    first_broken: str | None = None
    reason: str | None = None
