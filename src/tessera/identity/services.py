"""Writes of global identities."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from tessera.errors import Conflict, field_error
from tessera.identity.emails import normalize_email
from tessera.identity.models import User

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "timezone",
    "language",
    "avatar_url",
    "metadata",
)


def user_create(
    *, email: str, password: str | None = None, must_change_password: bool = False, **profile
) -> User:
    """A new global identity; 409 when the email (case-insensitively) is taken, also in a race."""
    unknown = set(profile) - set(PROFILE_FIELDS) - {"is_service_account", "is_platform_admin"}
    if unknown:
        raise TypeError(f"unknown profile fields: {sorted(unknown)}")
    email = normalize_email(email)
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email, password, must_change_password=must_change_password, **profile
            )
    except IntegrityError:
        raise Conflict(
            "A user with this email already exists",
            code="email_taken",
            errors=[field_error("email", "Already registered.", "duplicate")],
        ) from None
