"""What the access reviews endpoints accept."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

from tessera.api.instants import Instant


class ScopeIn(Schema):
    roles: list[str] | None = Field(None, max_length=50)
    department: str | None = Field(None, max_length=120)
    all: bool | None = None
    privileged: bool | None = Field(None, description="members holding privileged access")


class ReviewIn(Schema):
    name: str = Field(..., max_length=200)
    scope: ScopeIn
    due_at: Instant
    fallback_reviewer_id: str | None = Field(
        None, max_length=64, description="reviews members without a manager (default: you)"
    )


class DecisionIn(Schema):
    decision: Literal["keep", "revoke"]
    note: str | None = Field(None, max_length=1000)
