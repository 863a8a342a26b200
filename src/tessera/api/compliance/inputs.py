"""What the compliance endpoints accept."""

from __future__ import annotations

from ninja import Schema

from tessera.api.instants import Instant


class PeriodQuery(Schema):
    since: Instant | None = None
    until: Instant | None = None
