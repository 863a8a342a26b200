"""List queries (RFC 7644 §3.4.2): filter, then `startIndex` (1-based) and `count` pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from tessera.scim.errors import ScimInvalidValue, ScimTooMany
from tessera.scim.filters import Attribute, filter_query
from tessera.scim.resources import MAX_RESULTS

DEFAULT_COUNT = 100


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    start_index: int
    items: list[Any]


def paging(start_index: str | None, count: str | None) -> tuple[int, int]:
    """(startIndex ≥ 1, count 0…MAX_RESULTS); a value below 1 (startIndex) or 0 (count) is
    read as that bound (§3.4.2.4); beyond the maximum is `tooMany`; a non-integer invalidValue."""
    try:
        start = int(start_index) if start_index not in (None, "") else 1
        size = int(count) if count not in (None, "") else DEFAULT_COUNT
    except ValueError:
        raise ScimInvalidValue("startIndex and count are integers") from None
    if size > MAX_RESULTS:
        raise ScimTooMany(f"count is at most {MAX_RESULTS}")
    return max(1, start), max(0, size)


def page_of(
    queryset: QuerySet,
    *,
    filter_text: str | None,
    model: type,
    attributes: Mapping[str, Attribute],
    core_urn: str,
    start_index: int,
    count: int,
) -> Page:
    """One page of `queryset` (ordered) matching `filter_text`, with the total count.

    A first page with room to spare holds every match, so its length is the total: the lookup a
    directory sends before each create (`userName eq "…"`) costs one query, not two."""
    if filter_text:
        queryset = queryset.filter(
            filter_query(filter_text, model=model, attributes=attributes, core_urn=core_urn)
        )
    items = list(queryset[start_index - 1 : start_index - 1 + count]) if count else []
    if start_index == 1 and len(items) < count:
        return Page(total=len(items), start_index=start_index, items=items)
    return Page(total=queryset.count(), start_index=start_index, items=items)
