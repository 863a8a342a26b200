"""/api/v1/delegations: the input schemas (what a request may send)."""

from __future__ import annotations

from ninja import Schema

from tessera.api.instants import Instant


class DelegationIn(Schema):
    delegate_id: str
    role: str | None = None
    permissions: list[str] | None = None
    starts_at: Instant | None = None
    ends_at: Instant
    reason: str = ""
    delegator_id: str | None = None


class DelegationFilters(Schema):
    status: str | None = None
    delegate_id: str | None = None
    delegator_id: str | None = None
