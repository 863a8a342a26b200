"""/api/v1/audit-events: the input schemas (what a request may send)."""

from __future__ import annotations

from ninja import Schema

from tessera.api.instants import Instant


class AuditQuery(Schema):
    actor_id: str | None = None
    type: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: Instant | None = None
    until: Instant | None = None
