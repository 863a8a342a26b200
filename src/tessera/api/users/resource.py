"""A member of the caller's tenant as a policy resource (for `requires(..., resource=...)`)."""

from __future__ import annotations

import uuid
from typing import Any

from tessera.engine import Resource
from tessera.tenancy.selectors import membership_queryset


def user_resource(request, user_id: str, **_: Any) -> Resource:
    """The member as a resource: `own` scopes match themselves, `department` scopes their unit."""
    department = None
    if getattr(request, "tenant", None) is not None and _is_uuid(user_id):
        department = (
            membership_queryset(tenant=request.tenant)
            .filter(user_id=user_id)
            .values_list("department", flat=True)
            .first()
        )
    return Resource(type="user", id=user_id, owner_id=user_id, department=department or None)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
