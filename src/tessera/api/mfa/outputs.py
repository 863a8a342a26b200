"""/api/v1/auth/mfa: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from tessera.api.auth.outputs import LoginOut


class MfaLoginOut(LoginOut):
    device_token: str | None = None


class TotpSetupOut(Schema):
    secret: str
    otpauth_uri: str
    qr_svg: str


class BackupCodesOut(Schema):
    backup_codes: list[str]


class MfaStatusOut(Schema):
    enabled: bool
    pending: bool
    confirmed_at: datetime | None
    backup_codes_remaining: int
    required: bool = Field(description="the current tenant requires MFA of the caller")


class DeviceOut(Schema):
    id: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    ip: str | None
    user_agent: str


class DevicePage(Schema):
    items: list[DeviceOut]
    next_cursor: str | None = None
