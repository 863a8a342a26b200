"""Keyset (cursor) pagination: opaque cursors, `limit` ≤ 200, never an OFFSET scan."""

from __future__ import annotations

import base64
import json
from typing import Any

from tessera.errors import ValidationFailed, field_error

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationFailed(
            "Invalid limit", errors=[field_error("limit", f"Between 1 and {MAX_LIMIT}.")]
        )
    return limit


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(value, dict):
            raise ValueError
        return value
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "Invalid cursor", errors=[field_error("cursor", "Not a cursor this API issued.")]
        ) from None
