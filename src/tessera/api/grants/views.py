"""/api/v1/grants: object-level grants — one permission on one resource, to a member or a role."""

from __future__ import annotations

import uuid

from ninja import Query, Router, Status

from tessera.access.bridge.guard import requires
from tessera.access.selectors import grant_get, grant_list, role_get
from tessera.access.services.grants import grant_create, grant_delete
from tessera.api.grants.inputs import GrantFilters, GrantIn, GrantSubject
from tessera.api.grants.outputs import GrantOut, GrantPage, grant_as_dict
from tessera.api.pagination import newest_first_page
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.errors import NotFound, ValidationFailed, field_error
from tessera.tenancy.selectors import membership_get

router = Router(tags=["grants"], auth=principal_auth)


def _subject(request, subject: GrantSubject):
    """(membership, role) named by the subject; 422 naming the field when unknown."""
    if (subject.user_id is None) == (subject.role is None):
        raise ValidationFailed(
            "Invalid subject",
            errors=[field_error("subject", "Give exactly one of user_id or role.", "required")],
        )
    if subject.user_id is not None:
        membership = membership_get(tenant=request.tenant, user_id=subject.user_id)
        if membership is None:
            raise ValidationFailed(
                "Unknown member",
                errors=[
                    field_error("subject.user_id", "Not a member of this tenant.", "not_found")
                ],
            )
        return membership, None
    assert subject.role is not None  # exactly one of user_id and role (checked above)
    try:
        return None, role_get(tenant=request.tenant, slug=subject.role)
    except NotFound:
        raise ValidationFailed(
            "Unknown role",
            errors=[field_error("subject.role", "No such role in this tenant.", "not_found")],
        ) from None


@router.get("", response=GrantPage, summary="The tenant's object-level grants, newest first")
@requires("grant:read")
def list_grants(request, filters: Query[GrantFilters], limit: int = 50, cursor: str | None = None):
    qs = grant_list(tenant=request.tenant).select_related("membership", "role", "granted_by")
    if filters.resource_type:
        qs = qs.filter(resource_type=filters.resource_type)
    if filters.resource_id:
        qs = qs.filter(resource_id=filters.resource_id)
    if filters.permission:
        qs = qs.filter(permission=filters.permission)
    if filters.role:
        qs = qs.filter(role__slug=filters.role)
    if filters.user_id:
        try:
            qs = qs.filter(membership__user_id=uuid.UUID(filters.user_id))
        except ValueError:
            qs = qs.none()
    rows, following = newest_first_page(qs, cursor=cursor, limit=limit)
    return {"items": [grant_as_dict(g) for g in rows], "next_cursor": following}


@router.post("", response={201: GrantOut}, summary="Grant one permission on one resource")
@requires("grant:create")
def create_grant(request, payload: GrantIn):
    membership, role = _subject(request, payload.subject)
    grant = grant_create(
        tenant=request.tenant,
        permission=payload.permission,
        resource_type=payload.resource_type,
        resource_id=payload.resource_id,
        membership=membership,
        role=role,
        expires_at=payload.expires_at,
        granted_by=request.membership,
        actor=actor_from_request(request),
    )
    return Status(201, grant_as_dict(grant_get(tenant=request.tenant, grant_id=grant.pk)))


@router.delete("/{grant_id}", response={204: None}, summary="Revoke a grant")
@requires("grant:delete")
def delete_grant(request, grant_id: str):
    grant = grant_get(tenant=request.tenant, grant_id=grant_id)
    grant_delete(grant=grant, actor=actor_from_request(request))
    return Status(204, None)
