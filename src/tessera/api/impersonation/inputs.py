"""What the impersonation endpoints accept."""

from __future__ import annotations

from ninja import Field, Schema


class ImpersonateIn(Schema):
    user_id: str = Field(..., max_length=64, description="the member to act as (global user id)")
    reason: str = Field(..., max_length=2000, description="why (mandatory; audited, shown to them)")
    minutes: int | None = Field(
        None, description="how long (default and maximum: the tenant's impersonation.max_minutes)"
    )
