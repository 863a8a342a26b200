"""/api/v1/service-accounts: the input schemas (what a request may send)."""

from __future__ import annotations

from ninja import Field, Schema


class ServiceAccountIn(Schema):
    name: str = Field(..., max_length=150)
    roles: list[str] | None = None
    description: str = Field("", max_length=500)
