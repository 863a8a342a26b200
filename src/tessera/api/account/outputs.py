"""The person's own account: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema

from tessera.api.auth.outputs import user_as_dict


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
    """The identity as `me` shows it, with the state of its address and who manages it."""
    return {
        **user_as_dict(user),
        "email_verified": user.email_verified_at is not None,
        "email_verified_at": user.email_verified_at,
        "managed": user.managed_by_tenant_id is not None,
    }
