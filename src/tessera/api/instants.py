"""`Instant`: the type of every date-time the API reads.

An ISO 8601 date-time, stored as UTC: a naive value is read as UTC, an offset is applied on the
way in (PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 and pydantic allow up to
±23:59), and a value that leaves the representable range once in UTC (`0001-01-01T00:00+01:00`)
is a 422 instead of an overflow deep in a write.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None


Instant = Annotated[datetime, AfterValidator(as_utc)]
