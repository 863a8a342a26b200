"""/api/v1/roles and /api/v1/permissions: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from tessera.access.models import Permission, Role
from tessera.api.rule_schema import RuleList


class RoleOut(Schema):
    slug: str
    name: str
    description: str
    parents: list[str]
    is_system: bool
    max_members: int | None
    rules: RuleList
    ui_config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class RolePage(Schema):
    items: list[RoleOut]
    next_cursor: str | None


class PermissionOut(Schema):
    permission: str
    description: str
    is_system: bool


class PermissionPage(Schema):
    items: list[PermissionOut]
    next_cursor: str | None


def rule_as_dict(rule) -> dict[str, Any]:
    return {
        "effect": rule.effect,
        "permission": rule.permission,
        "scope": rule.scope,
        "condition": rule.condition,
        "fields": rule.fields or {},
    }


def role_as_dict(role: Role) -> dict[str, Any]:
    """A role as the API shows it (parents and rules from the prefetch when there is one)."""
    return {
        "slug": role.slug,
        "name": role.name,
        "description": role.description,
        "parents": sorted(p.slug for p in role.parents.all()),
        "is_system": role.is_system,
        "max_members": role.max_members,
        "rules": [
            rule_as_dict(r) for r in sorted(role.rules.all(), key=lambda r: (r.position, r.pk))
        ],
        "ui_config": role.ui_config or {},
        "created_at": role.created_at,
        "updated_at": role.updated_at,
    }


def permission_as_dict(entry: Permission) -> dict[str, Any]:
    return {
        "permission": entry.permission,
        "description": entry.description,
        "is_system": entry.is_system or entry.tenant_id is None,
    }
