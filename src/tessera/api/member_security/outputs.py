"""A member's sign-in (seen and ended by a tenant administrator): the output schemas."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class MemberSessionOut(Schema):
    id: str
    created_at: datetime
    last_activity: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str
    auth_method: str
    mfa_verified: bool
    impersonator_id: str | None = None


class MemberSessionPage(Schema):
    items: list[MemberSessionOut]
    next_cursor: str | None


class SessionsEndedOut(Schema):
    ended: int


class MfaResetOut(Schema):
    user_id: str
    totp_removed: bool
    backup_codes_removed: int
    trusted_devices_revoked: int
    sessions_ended: int
