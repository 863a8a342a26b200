"""/api/v1/invitations: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class InvitationOut(Schema):
    id: str
    email: str
    user_id: str | None
    membership_status: str | None
    created_at: datetime
    created_by: str | None
    sent_at: datetime
    send_count: int
    expires_at: datetime
    expired: bool


class InvitationPage(Schema):
    items: list[InvitationOut]
    next_cursor: str | None
