"""/api/v1/delegations: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from ninja import Schema

from tessera.access.models import Delegation, DelegationStatus


class DelegationOut(Schema):
    id: str
    status: str
    in_force: bool
    delegator_id: str
    delegate_id: str
    role: str | None
    permissions: list[str]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None
    approved_by: str | None
    created_at: datetime
    revoked_at: datetime | None


class DelegationPage(Schema):
    items: list[DelegationOut]
    next_cursor: str | None


def delegation_as_dict(d: Delegation, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    status = d.status
    if status == DelegationStatus.ACTIVE and d.ends_at <= now:
        status = "expired"
    return {
        "id": str(d.pk),
        "status": status,
        "in_force": d.status == DelegationStatus.ACTIVE and d.starts_at <= now < d.ends_at,
        "delegator_id": str(d.delegator.user_id),
        "delegate_id": str(d.delegate.user_id),
        "role": d.role.slug if d.role is not None else None,
        "permissions": list(d.permissions or []),
        "starts_at": d.starts_at,
        "ends_at": d.ends_at,
        "reason": d.reason,
        "created_by": str(d.created_by.user_id) if d.created_by is not None else None,
        "approved_by": str(d.approved_by.user_id) if d.approved_by is not None else None,
        "created_at": d.created_at,
        "revoked_at": d.revoked_at,
    }
