"""The person's own account: the input schemas (what a request may send)."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import ConfigDict

from tessera.api.auth.inputs import MAX_PASSWORD_INPUT


class InvitationAcceptIn(Schema):
    token: str = Field(..., max_length=512)
    password: str | None = Field(
        None,
        max_length=MAX_PASSWORD_INPUT,
        description="a new password when the account was never verified, else the current one",
    )


class EmailVerifyIn(Schema):
    email: str = Field(..., max_length=320)


class EmailVerifyConfirmIn(Schema):
    token: str = Field(..., max_length=512)
    password: str | None = Field(
        None,
        max_length=MAX_PASSWORD_INPUT,
        description="required when a tenant manages the account: it replaces the password",
    )


class ProfileIn(Schema):
    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    timezone: str | None = None
    language: str | None = None
    avatar_url: str | None = None
