"""POST /api/v1/auth/ws-ticket: the output schemas and the shaping of answers."""

from __future__ import annotations

from ninja import Schema


class WsTicketOut(Schema):
    ticket: str
    expires_in: int
