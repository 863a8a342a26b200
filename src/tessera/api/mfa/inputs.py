"""/api/v1/auth/mfa: the input schemas (what a request may send)."""

from __future__ import annotations

from ninja import Field, Schema

MAX_CODE_INPUT = 64


class MfaVerifyIn(Schema):
    mfa_token: str = Field(..., max_length=256)
    code: str = Field(..., max_length=MAX_CODE_INPUT, description="TOTP code or a backup code")
    trust_device: bool = Field(
        False, description="answer a `device_token` that skips the MFA step for 30 days"
    )
    cookie: bool = Field(False, description="also set the HttpOnly session cookie")


class CodeIn(Schema):
    code: str = Field(..., max_length=MAX_CODE_INPUT)


class DisableIn(Schema):
    password: str = Field(..., max_length=1024)
    code: str = Field(..., max_length=MAX_CODE_INPUT)
