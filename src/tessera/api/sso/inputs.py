"""What the sso endpoints accept."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import ConfigDict


class DiscoverIn(Schema):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(..., max_length=320)


class ExchangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., max_length=256)
    cookie: bool = Field(False, description="also set the HttpOnly session cookie")
