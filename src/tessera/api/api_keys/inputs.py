"""/api/v1/api-keys: the input schemas (what a request may send)."""

from __future__ import annotations

from ninja import Field, Schema

from tessera.api.instants import Instant


class ApiKeyIn(Schema):
    name: str = Field(..., max_length=100)
    scopes: list[str] = Field(..., description="`resource:action`, `resource:*` or `*:*`")
    allowed_ips: list[str] | None = Field(None, description="CIDR networks the key works from")
    expires_at: Instant | None = None
    service_account_id: str | None = Field(
        None, description="create the key for this service account of the tenant (its user id)"
    )
