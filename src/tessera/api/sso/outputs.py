"""What the sso endpoints answer, and the shaping into it."""

from __future__ import annotations

from ninja import Schema


class DiscoverOut(Schema):
    sso: bool
    provider_id: str | None = None
    start_url: str | None = None


class CodeOut(Schema):
    code: str
