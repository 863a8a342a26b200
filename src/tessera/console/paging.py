"""Keyset pages for the console's lists: the position of the next page travels in the link as a
signed token (never an OFFSET, never a position the server did not hand out)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest

from tessera.errors import InvalidInput

_SALT = "tessera.console.cursor"
PAGE_SIZE = 25


class BadCursor(InvalidInput):
    code = "invalid_cursor"


def cursor_dump(position: dict[str, Any] | None) -> str | None:
    """The link token for `position` (None: no next page)."""
    if position is None:
        return None
    return signing.dumps(position, salt=_SALT, compress=True)


def cursor_load(token: str | None) -> dict[str, Any] | None:
    """The position a token names; 400 for a token this console did not issue."""
    if not token:
        return None
    try:
        value = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise BadCursor("This page link is not valid; start from the first page.") from None
    if not isinstance(value, dict):
        raise BadCursor("This page link is not valid; start from the first page.")
    return value


def newest_first(queryset: QuerySet[Any], token: str | None) -> tuple[list[Any], str | None]:
    """One page of `queryset` newest first by (created_at, id), and the next page's token."""
    position = cursor_load(token)
    if position is not None:
        try:
            at, last = datetime.fromisoformat(position["c"]), uuid.UUID(position["i"])
        except (KeyError, TypeError, ValueError):
            raise BadCursor("This page link is not valid; start from the first page.") from None
        queryset = queryset.filter(created_at__lte=at).exclude(created_at=at, id__gte=last)
    rows = list(queryset.order_by("-created_at", "-id")[: PAGE_SIZE + 1])
    if len(rows) <= PAGE_SIZE:
        return rows, None
    last_row = rows[PAGE_SIZE - 1]
    return rows[:PAGE_SIZE], cursor_dump(
        {"c": last_row.created_at.isoformat(), "i": str(last_row.pk)}
    )


def next_page_query(request: HttpRequest, token: str | None) -> str | None:
    """The query string of the next page: the current filters and the next position."""
    if token is None:
        return None
    query = request.GET.copy()
    query["cursor"] = token
    return query.urlencode()
