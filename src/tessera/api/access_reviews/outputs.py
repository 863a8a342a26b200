"""What the access reviews endpoints answer, and the shaping into it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class Counts(Schema):
    total: int
    pending: int
    kept: int
    revoked: int


class ItemOut(Schema):
    id: str
    user_id: str
    kind: str
    access: str
    detail: dict[str, Any]
    reviewer_id: str | None
    decision: str
    applied: bool
    note: str
    decided_by: str | None
    decided_at: datetime | None


class ReviewOut(Schema):
    id: str
    name: str
    scope: dict[str, Any]
    status: str
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    created_by: str | None
    fallback_reviewer_id: str | None
    counts: Counts


class ReviewCreatedOut(ReviewOut):
    items: list[ItemOut]


class ReviewPage(Schema):
    items: list[ReviewOut]
    next_cursor: str | None


class ItemPage(Schema):
    items: list[ItemOut]
    next_cursor: str | None
