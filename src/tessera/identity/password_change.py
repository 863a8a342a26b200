"""A person who must change their password may do nothing else first: the one check, one error."""

from __future__ import annotations

from typing import Any

from tessera.errors import PermissionDenied

CHANGE_FIRST_DETAIL = "Change your password first (POST /api/v1/auth/password/change)"


class PasswordChangeRequired(PermissionDenied):
    """The session may only change the password (and read itself, log out)."""

    code = "password_change_required"


def ensure_password_changed(principal: Any, *, detail: str = CHANGE_FIRST_DETAIL) -> None:
    """403 `password_change_required` while the caller's session must change the password."""
    if getattr(principal, "password_change_required", False):
        raise PasswordChangeRequired(detail)
