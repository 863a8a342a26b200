"""What the impersonation endpoints answer, and the shaping into it."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema

from tessera.api.auth.outputs import LoginOut


class ImpersonationOut(LoginOut):
    impersonator_id: str
    impersonation_ends_at: datetime
    reason: str


class ImpersonationEndedOut(Schema):
    session_id: str
    ended_at: datetime
