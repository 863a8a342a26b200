"""The one "not expired yet" filter: rows whose optional end lies after a moment."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q


def active_at(now: datetime, *, field: str = "expires_at") -> Q:
    """Rows whose `field` is unset (no end) or after `now`."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": now})
