"""The member `{user_id}` names in the caller's tenant: the membership (else 404), or the policy
resource for `requires(..., resource=...)`. The users area and those mounted under it use both."""

from __future__ import annotations

import uuid
from typing import Any

from tessera.administration.member_selectors import member_get
from tessera.engine import Resource
from tessera.errors import NotFound
from tessera.tenancy.models import Membership
from tessera.tenancy.selectors import membership_queryset


def member_or_404(request, user_id: str) -> Membership:
    """The membership of user `user_id` in the request's tenant; 404 for anyone else."""
    membership = member_get(tenant=request.tenant, user_id=user_id)
    if membership is None:
        raise NotFound("No such user in this tenant")
    return membership


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
