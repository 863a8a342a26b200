"""/api/v1/grants: the input schemas (what a request may send)."""

from __future__ import annotations

from ninja import Schema

from tessera.api.instants import Instant


class GrantSubject(Schema):
    user_id: str | None = None
    role: str | None = None


class GrantIn(Schema):
    subject: GrantSubject
    permission: str
    resource_type: str
    resource_id: str
    expires_at: Instant | None = None


class GrantFilters(Schema):
    resource_type: str | None = None
    resource_id: str | None = None
    user_id: str | None = None
    role: str | None = None
    permission: str | None = None
