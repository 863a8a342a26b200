"""Keyset (cursor) pagination: opaque cursors, `limit` ≤ 200, never an OFFSET scan."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
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


def decode_key_cursor(cursor: str | None, key: str) -> str | None:
    """The last value of a listing ordered by one text column (`slug`, …); 422 for anything
    else."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    value = position.get(key)
    if not isinstance(value, str):
        raise ValidationFailed(
            "Invalid cursor", errors=[field_error("cursor", "Not a cursor this API issued.")]
        )
    return value


def decode_created_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (created_at, id) position of a newest-first cursor; 422 for anything else."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        return datetime.fromisoformat(position["c"]), uuid.UUID(str(position["i"]))
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed(
            "Invalid cursor", errors=[field_error("cursor", "Not a cursor this API issued.")]
        ) from None


def encode_created_cursor(row) -> str:
    """The cursor that continues after `row` in a newest-first (created_at, id) listing."""
    return encode_cursor({"c": row.created_at.isoformat(), "i": str(row.pk)})


def newest_first_page(qs, *, cursor: str | None, limit: int | None) -> tuple[list, str | None]:
    """One page of `qs` ordered newest first by (created_at, id), and the cursor of the next."""
    after = decode_created_cursor(cursor)
    if after is not None:
        at, last = after
        qs = qs.filter(created_at__lte=at).exclude(created_at=at, id__gte=last)
    limit = clamp_limit(limit)
    rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
    following = encode_created_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], following
