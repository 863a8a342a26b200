"""/api/v1/tenants: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from tessera.tenancy.models import Tenant


class TenantOut(Schema):
    id: str
    slug: str
    name: str
    is_active: bool
    settings: dict[str, Any]
    policy_version: int
    created_at: datetime
    updated_at: datetime


class TenantCreatedOut(TenantOut):
    admin: dict[str, Any] | None = None


class TenantPage(Schema):
    items: list[TenantOut]
    next_cursor: str | None


def tenant_as_dict(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": str(tenant.pk),
        "slug": tenant.slug,
        "name": tenant.name,
        "is_active": tenant.is_active,
        "settings": tenant.settings,
        "policy_version": tenant.policy_version,
        "created_at": tenant.created_at,
        "updated_at": tenant.updated_at,
    }
