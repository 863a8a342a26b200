"""The person's own account: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class ProfileOut(Schema):
    id: str
    email: str
    first_name: str
    last_name: str
    phone: str
    timezone: str
    language: str
    avatar_url: str
    is_platform_admin: bool
    email_verified: bool
    email_verified_at: datetime | None
    managed: bool


def profile_as_dict(user) -> dict:
    return {
        "id": str(user.pk),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "timezone": user.timezone,
        "language": user.language,
        "avatar_url": user.avatar_url,
        "is_platform_admin": user.is_platform_admin,
        "email_verified": user.email_verified_at is not None,
        "email_verified_at": user.email_verified_at,
        "managed": user.managed_by_tenant_id is not None,
    }
