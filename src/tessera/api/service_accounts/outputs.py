"""/api/v1/service-accounts: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class ServiceAccountOut(Schema):
    id: str = Field(description="the service identity's user id (as in /api/v1/users/{id})")
    membership_id: str
    name: str
    email: str
    status: str
    roles: list[str]
    created_at: datetime


class ServiceAccountPage(Schema):
    items: list[ServiceAccountOut]
    next_cursor: str | None
