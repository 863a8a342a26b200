"""An API key's text (`tsk_<prefix>_<secret>`), its limits, and the errors and answers about it."""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any

from tessera.authn.models import ApiKey
from tessera.errors import NotAuthenticated, ValidationFailed

KEY_PREFIX = "tsk_"
PREFIX_LENGTH = 8
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
SECRET_BYTES = 32  # 256 bits
MAX_KEY_LENGTH = 128
MAX_NAME_LENGTH = 100
MAX_SCOPES = 100
MAX_ALLOWED_IPS = 100
CACHE_SIZE = 10_000
DEFAULT_FLUSH_SECONDS = 30
INVALID_DETAIL = "The API key is not valid."
_SECRET_CHARS = frozenset(string.ascii_letters + string.digits + "-_")


class ApiKeyInvalid(NotAuthenticated):
    """Unknown, malformed, revoked, expired, wrong IP, inactive member: one answer."""

    code = "invalid_api_key"


class ScopesNotHeld(ValidationFailed):
    code = "scopes_not_held"


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key and its full text (`raw`), which is never available again."""

    key: ApiKey
    raw: str


@dataclass(frozen=True, slots=True)
class ApiKeyMatch:
    """What an authenticated API key tells the request."""

    key_id: uuid.UUID
    tenant_id: Any
    membership_id: Any
    user_id: Any
    scopes: frozenset[str]
    tenant_version: int
    membership_version: int
    counter: Any = None  # the request-budget counter spent with the key's state (RideAlong)
    spent: int | None = None  # its value after that spend


# --- the key's text -----------------------------------------------------------------------------


def key_prefix_of(raw: str | None) -> str | None:
    """The lookup prefix of a well-formed key; None for anything else."""
    if not isinstance(raw, str) or not raw.startswith(KEY_PREFIX) or len(raw) > MAX_KEY_LENGTH:
        return None
    prefix = raw[4 : 4 + PREFIX_LENGTH]
    secret = raw[5 + PREFIX_LENGTH :]
    if (
        len(prefix) != PREFIX_LENGTH
        or raw[4 + PREFIX_LENGTH : 5 + PREFIX_LENGTH] != "_"
        or len(secret) < 32
        or any(ch not in PREFIX_ALPHABET for ch in prefix)
        or not _SECRET_CHARS.issuperset(secret)
    ):
        return None
    return prefix


def key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def _new_key(prefix: str) -> str:
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
