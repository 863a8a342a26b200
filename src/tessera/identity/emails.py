"""Email address normalization: one spelling per mailbox, so uniqueness is case-insensitive."""

from __future__ import annotations

import re
import unicodedata

from tessera.errors import ValidationFailed, field_error

MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(raw: str) -> str:
    """NFKC, trimmed and lower-cased; raises ValidationFailed when it is not an address."""
    email = unicodedata.normalize("NFKC", raw or "").strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValidationFailed(
            "Invalid email address", errors=[field_error("email", "Enter a valid email address.")]
        )
    return email
