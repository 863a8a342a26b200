"""/api/v1/tenants: the input schemas (what a request may send)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class TenantIn(Schema):
    slug: str = Field(..., max_length=63)
    name: str = Field(..., max_length=200)
    admin_email: str | None = None


class TenantPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    is_active: bool | None = None
    settings: dict[str, Any] | None = None
