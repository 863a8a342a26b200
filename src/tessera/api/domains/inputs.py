"""What the domains endpoints accept."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import ConfigDict


class DomainIn(Schema):
    model_config = ConfigDict(extra="forbid")

    domain: str = Field(..., max_length=300)
