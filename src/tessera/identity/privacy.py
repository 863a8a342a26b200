"""Identity's part of erasing a person: blank the global identity and delete its secrets."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from tessera.identity.models import (
    BackupCode,
    EmailVerificationToken,
    PasswordHistory,
    TotpFactor,
    User,
)


def identity_anonymize(*, user: User, email: str) -> dict[str, int]:
    """Delete the person's password history, MFA factor, backup codes and email tokens, rename
    the Django admin's log entries about them to the id, and blank the identity under `email`
    (inactive, unusable password); call inside the erasing transaction."""
    deleted = {
        "password_history": PasswordHistory.objects.filter(user_id=user.pk).delete()[0],
        "mfa_factors": TotpFactor.objects.filter(user_id=user.pk).delete()[0],
        "backup_codes": BackupCode.objects.filter(user_id=user.pk).delete()[0],
        "email_tokens": EmailVerificationToken.objects.filter(user_id=user.pk).delete()[0],
    }
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=str(user.pk))
    user.email = email
    user.first_name = user.last_name = user.phone = user.avatar_url = ""
    user.metadata = {}
    user.timezone = User._meta.get_field("timezone").default
    user.language = User._meta.get_field("language").default
    user.is_active = False
    user.must_change_password = False
    user.password_changed_at = user.last_login = user.last_activity_at = None
    user.email_verified_at = user.managed_by_tenant = None
    user.set_unusable_password()
    user.save()
    return deleted
