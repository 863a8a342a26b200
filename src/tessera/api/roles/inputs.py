"""/api/v1/roles and /api/v1/permissions: the input schemas (what a request may send)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict

from tessera.api.rule_schema import RuleList


class RoleIn(Schema):
    slug: str
    name: str
    description: str = ""
    parents: list[str] = []
    max_members: int | None = None
    rules: RuleList = []
    ui_config: dict[str, Any] = {}


class RolePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    parents: list[str] | None = None
    max_members: int | None = None
    rules: RuleList | None = None
    ui_config: dict[str, Any] | None = None


class PermissionIn(Schema):
    permission: str
    description: str = ""
