"""/api/v1/auth: the input schemas (what a request may send)."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import ValidationError as PydanticValidationError

from tessera.errors import ValidationFailed, field_error

MAX_PASSWORD_INPUT = 1024


class LoginIn(Schema):
    email: str = Field(..., max_length=320)
    password: str = Field(..., max_length=MAX_PASSWORD_INPUT)
    tenant: str | None = Field(None, max_length=64, description="tenant slug (or id)")
    cookie: bool = Field(False, description="also set the HttpOnly session cookie")
    device_token: str | None = Field(
        None,
        max_length=256,
        description="a trusted device's token (from /auth/mfa/verify): skips the MFA step",
    )


class RefreshIn(Schema):
    refresh_token: str = Field(..., max_length=512)


class LogoutIn(Schema):
    all: bool = False


class SwitchTenantIn(Schema):
    tenant: str = Field(..., max_length=64, description="tenant slug (or id)")


class PasswordChangeIn(Schema):
    current_password: str = Field(..., max_length=MAX_PASSWORD_INPUT)
    new_password: str = Field(..., max_length=MAX_PASSWORD_INPUT)


class PasswordResetIn(Schema):
    email: str = Field(..., max_length=320)


class PasswordResetConfirmIn(Schema):
    token: str = Field(..., max_length=512)
    new_password: str = Field(..., max_length=MAX_PASSWORD_INPUT)


def logout_input(request) -> LogoutIn:
    """The optional JSON body: absent, empty or not JSON means `{"all": false}` (the narrower
    logout: a body that cannot widen it needs no 415)."""
    if request.content_type != "application/json" or not request.body.strip():
        return LogoutIn()
    try:
        return LogoutIn.model_validate_json(request.body)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            "The request does not match the schema.",
            errors=[
                field_error(".".join(str(p) for p in e["loc"]) or "body", e["msg"], e["type"])
                for e in exc.errors()
            ],
        ) from None
