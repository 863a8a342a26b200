"""/api/v1/grants: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from tessera.access.models import Grant


class GrantOut(Schema):
    id: str
    subject: dict[str, Any]
    permission: str
    resource_type: str
    resource_id: str
    expires_at: datetime | None
    granted_by: str | None
    created_at: datetime


class GrantPage(Schema):
    items: list[GrantOut]
    next_cursor: str | None


def grant_as_dict(grant: Grant) -> dict[str, Any]:
    subject: dict[str, str] = {}
    if grant.membership is not None:
        subject["user_id"] = str(grant.membership.user_id)
    elif grant.role is not None:
        subject["role"] = grant.role.slug
    return {
        "id": str(grant.pk),
        "subject": subject,
        "permission": grant.permission,
        "resource_type": grant.resource_type,
        "resource_id": grant.resource_id,
        "expires_at": grant.expires_at,
        "granted_by": str(grant.granted_by.user_id) if grant.granted_by is not None else None,
        "created_at": grant.created_at,
    }
