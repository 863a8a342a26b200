"""/api/v1/users: the members of the caller's tenant.

`{id}` is the person's global user id; it addresses their membership in the caller's tenant, so
another tenant's user answers 404 exactly like an unknown id.
"""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Status

from tessera.access.bridge.guard import requires
from tessera.access.selectors import effective_permissions_of
from tessera.access.services.overrides import overrides_set
from tessera.administration.bulk_import import member_bulk_create
from tessera.administration.member_rows import member_rows_page
from tessera.administration.member_selectors import MemberCursor, member_role_slugs
from tessera.administration.members import (
    member_create,
    member_deactivate,
    member_reactivate,
    member_remove,
    member_role_unassign,
    member_roles_assign,
    member_update,
)
from tessera.api.pagination import clamp_limit, decode_cursor, encode_cursor
from tessera.api.security import principal_auth
from tessera.api.users.inputs import RolesIn, RulesIn, UserFilters, UserIn, UserPatch, bulk_rows
from tessera.api.users.lookup import member_or_404, user_resource
from tessera.api.users.outputs import (
    BulkOut,
    PermissionsOut,
    RulesOut,
    UserOut,
    UserPage,
    member_as_dict,
    member_row_as_dict,
    user_page_response,
)
from tessera.audit.actors import actor_from_request
from tessera.tenancy.models import Membership

router = Router(tags=["users"], auth=principal_auth)


def _fresh(request, membership: Membership) -> dict[str, Any]:
    return member_as_dict(member_or_404(request, str(membership.user_id)))


def _by(request) -> Membership:
    return request.membership


@router.get("", response=UserPage, summary="Members of the caller's tenant")
@requires("user:read")
def list_users(request, filters: Query[UserFilters], limit: int = 50, cursor: str | None = None):
    page = member_rows_page(
        tenant=request.tenant,
        q=filters.q,
        role=filters.role,
        status=filters.status,
        department=filters.department,
        cursor=MemberCursor.from_dict(decode_cursor(cursor)),
        limit=clamp_limit(limit),
    )
    return user_page_response(
        [member_row_as_dict(row) for row in page.items],
        encode_cursor(page.next_cursor.as_dict()) if page.next_cursor else None,
    )


@router.post(
    "",
    response={201: UserOut},
    summary="Add a member: active (a new identity, or one this tenant manages) or invited",
)
@requires("user:create")
def create_user(request, payload: UserIn):
    created = member_create(
        tenant=request.tenant,
        data=payload.dict(exclude_none=True),
        by=_by(request),
        actor=actor_from_request(request),
    )
    return Status(201, _fresh(request, created.membership))


@router.post(
    "/bulk",
    response=BulkOut,
    summary="Add many members from JSON or CSV (idempotent by email)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"users": {"type": "array", "items": {"type": "object"}}},
                        "required": ["users"],
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
)
@requires("user:create")
def bulk_create_users(request):
    rows = bulk_rows(request)
    results = member_bulk_create(
        tenant=request.tenant, rows=rows, by=_by(request), actor=actor_from_request(request)
    )
    counts = {"created": 0, "exists": 0, "error": 0}
    for r in results:
        counts[r.status] += 1
    return {
        "results": [r.as_dict() for r in results],
        "created": counts["created"],
        "existing": counts["exists"],
        "failed": counts["error"],
    }


@router.get("/{user_id}", response=UserOut, summary="One member")
@requires("user:read", resource=user_resource)
def get_user(request, user_id: str):
    return member_as_dict(member_or_404(request, user_id))


@router.patch("/{user_id}", response=UserOut, summary="Change a member's profile and attributes")
@requires("user:update", resource=user_resource)
def update_user(request, user_id: str, payload: UserPatch):
    membership = member_or_404(request, user_id)
    member_update(
        membership=membership,
        changes=payload.dict(exclude_unset=True),
        by=_by(request),
        actor=actor_from_request(request),
    )
    return _fresh(request, membership)


@router.delete("/{user_id}", response={204: None}, summary="Remove the membership")
@requires("user:delete", resource=user_resource)
def remove_user(request, user_id: str):
    membership = member_or_404(request, user_id)
    member_remove(membership=membership, by=_by(request), actor=actor_from_request(request))
    return Status(204, None)


@router.post("/{user_id}/deactivate", response=UserOut, summary="Suspend; revoke credentials")
@requires("user:deactivate", resource=user_resource)
def deactivate_user(request, user_id: str):
    membership = member_or_404(request, user_id)
    member_deactivate(membership=membership, by=_by(request), actor=actor_from_request(request))
    return _fresh(request, membership)


@router.post("/{user_id}/reactivate", response=UserOut, summary="Make the membership active")
@requires("user:deactivate", resource=user_resource)
def reactivate_user(request, user_id: str):
    membership = member_or_404(request, user_id)
    member_reactivate(membership=membership, by=_by(request), actor=actor_from_request(request))
    return _fresh(request, membership)


@router.post("/{user_id}/roles", response=UserOut, summary="Assign roles")
@requires("role:assign", resource=user_resource)
def assign_roles(request, user_id: str, payload: RolesIn):
    membership = member_or_404(request, user_id)
    member_roles_assign(
        membership=membership,
        slugs=payload.roles,
        by=_by(request),
        actor=actor_from_request(request),
    )
    return _fresh(request, membership)


@router.delete("/{user_id}/roles/{slug}", response={204: None}, summary="Unassign a role")
@requires("role:assign", resource=user_resource)
def unassign_role(request, user_id: str, slug: str):
    membership = member_or_404(request, user_id)
    member_role_unassign(
        membership=membership, slug=slug, by=_by(request), actor=actor_from_request(request)
    )
    return Status(204, None)


@router.get("/{user_id}/permissions", response=PermissionsOut, summary="Effective permissions")
@requires("user:read", resource=user_resource)
def user_permissions(request, user_id: str):
    """Every rule and grant in force for the member, with its source (role path, override,
    grant or delegation)."""
    membership = member_or_404(request, user_id)
    return {
        "user_id": str(membership.user_id),
        "roles": member_role_slugs(membership),
        "permissions": effective_permissions_of(membership=membership),
    }


@router.put("/{user_id}/overrides", response=RulesOut, summary="Replace the member's overrides")
@requires("role:assign", resource=user_resource)
def set_overrides(request, user_id: str, payload: RulesIn):
    membership = member_or_404(request, user_id)
    rules = overrides_set(
        membership=membership,
        rules=payload.rules,
        by=_by(request),
        actor=actor_from_request(request),
    )
    return {"rules": rules}
