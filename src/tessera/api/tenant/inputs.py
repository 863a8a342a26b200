"""/api/v1/tenant: the input schemas (what a request may send)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class OwnTenantPatch(Schema):
    """A partial update: nested settings objects are merged key by key, then validated."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    settings: dict[str, Any] | None = None
