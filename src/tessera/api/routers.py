"""Every router of the API, by path prefix under /api/v1."""

from __future__ import annotations

ROUTERS: list[tuple[str, object]] = []
