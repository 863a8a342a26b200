"""/api/v1/api-keys: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class ApiKeyOwnerOut(Schema):
    user_id: str
    email: str
    is_service_account: bool


class ApiKeyOut(Schema):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    allowed_ips: list[str]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None
    use_count: int
    owner: ApiKeyOwnerOut


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="the whole key; shown in this answer only")


class ApiKeyPage(Schema):
    items: list[ApiKeyOut]
    next_cursor: str | None
