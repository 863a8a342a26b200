"""Writes of global identities."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from tessera.errors import Conflict, field_error
from tessera.identity.emails import normalize_email
from tessera.identity.models import PasswordHistory, User
from tessera.identity.passwords import password_validate

PASSWORD_HISTORY_KEPT = 24  # the largest `history` a tenant may configure

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
    unknown = (
        set(profile)
        - set(PROFILE_FIELDS)
        - {"is_service_account", "is_platform_admin", "managed_by_tenant"}
    )
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


def user_password_set(
    *, user: User, password: str, must_change: bool = False, validate: bool = True, tenant=None
) -> User:
    """Store a new password (Argon2id), keeping the former hash for the history rule.

    `validate` checks the password policy first (422 listing every broken rule). An administrator
    setting someone's password passes `must_change=True`: the user must change it at next login.
    Sessions are not touched here: `tessera.authn.sessions` revokes them where the flow needs it.
    """
    if validate:
        password_validate(password, user=user, tenant=tenant)
    with transaction.atomic():
        if user.has_usable_password():
            PasswordHistory.objects.create(user=user, password=user.password)
            stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[
                PASSWORD_HISTORY_KEPT:
            ]
            PasswordHistory.objects.filter(pk__in=list(stale)).delete()
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.must_change_password = must_change
        user.save(
            update_fields=["password", "password_changed_at", "must_change_password", "updated_at"]
        )
    return user
