"""Deleting what can no longer be used: ended sessions, spent tokens, retired signing keys."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from tessera.authn.keys import signing_keys_prune
from tessera.authn.models import PasswordResetToken, RefreshToken, Session

ENDED_SESSION_RETENTION = timedelta(days=7)


# --- cleanup --------------------------------------------------------------------------------------


def authn_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Delete what can no longer be used: sessions ended a week ago (with their refresh tokens),
    expired refresh tokens, used or expired reset tokens, signing keys past their last token."""

    now = now or timezone.now()
    cutoff = now - ENDED_SESSION_RETENTION
    _, ended = Session.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff) | Q(absolute_expires_at__lt=cutoff)
    ).delete()
    refresh, _ = RefreshToken.objects.filter(expires_at__lt=now).delete()
    resets, _ = PasswordResetToken.objects.filter(
        Q(expires_at__lt=now) | Q(used_at__isnull=False)
    ).delete()
    return {
        "sessions": ended.get("authn.Session", 0),
        "refresh_tokens": refresh + ended.get("authn.RefreshToken", 0),
        "password_reset_tokens": resets,
        "signing_keys": signing_keys_prune(now=now),
    }
