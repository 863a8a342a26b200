"""/api/v1/users: the members of the caller's tenant.

`{id}` is the person's global user id; it addresses their membership in the caller's tenant, so
another tenant's user answers 404 exactly like an unknown id.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict

from tessera.access.bridge.guard import requires
from tessera.access.selectors import effective_permissions_of
from tessera.access.services.overrides import overrides_set
from tessera.administration.bulk_import import BULK_MAX_ROWS, bulk_rows_from_csv, member_bulk_create
from tessera.administration.member_selectors import (
    MemberCursor,
    member_get,
    member_list,
    member_role_slugs,
)
from tessera.administration.members import (
    member_create,
    member_deactivate,
    member_reactivate,
    member_remove,
    member_role_unassign,
    member_roles_assign,
    member_update,
)
from tessera.api.instants import Instant
from tessera.api.pagination import clamp_limit, decode_cursor, encode_cursor
from tessera.api.rule_schema import RuleList
from tessera.api.security import principal_auth
from tessera.api.text_guard import ensure_storable
from tessera.audit.actors import actor_from_request
from tessera.engine import Resource
from tessera.errors import NotFound, ValidationFailed, field_error
from tessera.tenancy.models import Membership
from tessera.tenancy.selectors import membership_queryset

router = Router(tags=["users"], auth=principal_auth)

BULK_MAX_BYTES = 2 * 1024 * 1024


# --- schemas -----------------------------------------------------------------------------------


class UserOut(Schema):
    id: str
    email: str
    first_name: str
    last_name: str
    full_name: str
    is_active: bool
    status: str
    membership_id: str
    department: str
    job_title: str
    employee_id: str | None
    cost_center: str
    clearance_level: int
    attributes: dict[str, Any]
    manager_id: str | None
    roles: list[str]
    gdpr_consent_at: datetime | None
    must_change_password: bool
    profile_editable: bool
    created_at: datetime
    updated_at: datetime


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class UserFilters(Schema):
    q: str | None = None
    role: str | None = None
    status: str | None = None
    department: str | None = None


class UserIn(Schema):
    email: str
    password: str | None = None
    must_change_password: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    timezone: str | None = None
    language: str | None = None
    avatar_url: str | None = None
    roles: list[str] | None = None
    department: str | None = None
    job_title: str | None = None
    manager_id: str | None = None
    employee_id: str | None = None
    cost_center: str | None = None
    clearance_level: int | None = None
    attributes: dict[str, Any] | None = None


class UserPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    timezone: str | None = None
    language: str | None = None
    avatar_url: str | None = None
    department: str | None = None
    job_title: str | None = None
    manager_id: str | None = None
    employee_id: str | None = None
    cost_center: str | None = None
    clearance_level: int | None = None
    attributes: dict[str, Any] | None = None
    gdpr_consent_at: Instant | None = None


class RolesIn(Schema):
    roles: list[str]


class RulesIn(Schema):
    rules: RuleList


class RulesOut(Schema):
    rules: RuleList


class PermissionsOut(Schema):
    user_id: str
    roles: list[str]
    permissions: list[dict[str, Any]]


class BulkRowOut(Schema):
    row: int
    email: str
    status: str
    id: str | None = None
    membership_status: str | None = None
    errors: list[dict[str, Any]] | None = None


class BulkOut(Schema):
    results: list[BulkRowOut]
    created: int
    existing: int
    failed: int


# --- helpers -----------------------------------------------------------------------------------


def member_as_dict(m: Membership) -> dict[str, Any]:
    """One member as this tenant may see them: the same fields for everyone, and nothing the
    person's other tenants know. An invited person shows only the address the tenant typed; the
    global profile appears once they accept. Global state (e.g. a pending password change) shows
    only to the tenant that manages the identity."""
    from tessera.administration.members import _profile_is_tenant_owned
    from tessera.tenancy.models import MembershipStatus

    user = m.user
    consented = m.status != MembershipStatus.INVITED
    managed_here = user.managed_by_tenant_id == m.tenant_id
    return {
        "id": str(user.pk),
        "email": user.email,
        "first_name": user.first_name if consented else "",
        "last_name": user.last_name if consented else "",
        "full_name": user.full_name if consented else "",
        "is_active": user.is_active if consented else True,
        "status": m.status,
        "membership_id": str(m.pk),
        "department": m.department,
        "job_title": m.job_title,
        "employee_id": m.employee_id,
        "cost_center": m.cost_center,
        "clearance_level": m.clearance_level,
        "attributes": m.attributes or {},
        "manager_id": str(m.manager.user_id) if m.manager_id else None,
        "roles": member_role_slugs(m),
        "gdpr_consent_at": m.gdpr_consent_at,
        "must_change_password": user.must_change_password if managed_here else False,
        "profile_editable": _profile_is_tenant_owned(membership=m),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    }


def _member(request, user_id: str) -> Membership:
    membership = member_get(tenant=request.tenant, user_id=user_id)
    if membership is None:
        raise NotFound("No such user in this tenant")
    return membership


def _fresh(request, membership: Membership) -> dict[str, Any]:
    return member_as_dict(_member(request, str(membership.user_id)))


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


def _by(request) -> Membership:
    return request.membership


# --- list, create, read, update, remove --------------------------------------------------------


@router.get("", response=UserPage, summary="Members of the caller's tenant")
@requires("user:read")
def list_users(request, filters: Query[UserFilters], limit: int = 50, cursor: str | None = None):
    page = member_list(
        tenant=request.tenant,
        q=filters.q,
        role=filters.role,
        status=filters.status,
        department=filters.department,
        cursor=MemberCursor.from_dict(decode_cursor(cursor)),
        limit=clamp_limit(limit),
    )
    return {
        "items": [member_as_dict(m) for m in page.items],
        "next_cursor": encode_cursor(page.next_cursor.as_dict()) if page.next_cursor else None,
    }


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
    rows = _bulk_rows(request)
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


def _bulk_rows(request) -> list[dict[str, Any]]:
    """The rows of a bulk request: `{users: [...]}`, a `text/csv` body, or a multipart file."""
    content_type = (request.content_type or "").lower()
    try:
        if content_type == "multipart/form-data":
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed(
                    "No file", errors=[field_error("file", "Upload the CSV as `file`.", "required")]
                )
            if upload.size > BULK_MAX_BYTES:
                raise HttpError(413, "The file exceeds the size limit") from RequestDataTooBig()
            return bulk_rows_from_csv(_decode(upload.read()))
        raw = request.body
    except RequestDataTooBig as exc:
        raise HttpError(413, "The request body exceeds the size limit") from exc
    if content_type in ("text/csv", "application/csv"):
        return bulk_rows_from_csv(_decode(raw))
    if content_type not in ("application/json", ""):
        raise HttpError(415, "Send application/json, text/csv or multipart/form-data")
    try:
        document = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "Malformed JSON", errors=[field_error("body", "Not valid JSON.", "malformed")]
        ) from None
    ensure_storable(document)
    users = document.get("users") if isinstance(document, dict) else None
    if not isinstance(users, list):
        raise ValidationFailed(
            "Invalid body", errors=[field_error("users", "A list of users.", "required")]
        )
    if len(users) > BULK_MAX_ROWS:
        raise ValidationFailed(
            "Too many rows",
            errors=[field_error("users", f"At most {BULK_MAX_ROWS} rows per request.", "too_many")],
        )
    return users


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "The CSV is not UTF-8", errors=[field_error("file", "Encode the CSV as UTF-8.")]
        ) from None
    return ensure_storable(text, "file")


@router.get("/{user_id}", response=UserOut, summary="One member")
@requires("user:read", resource=user_resource)
def get_user(request, user_id: str):
    return member_as_dict(_member(request, user_id))


@router.patch("/{user_id}", response=UserOut, summary="Change a member's profile and attributes")
@requires("user:update", resource=user_resource)
def update_user(request, user_id: str, payload: UserPatch):
    membership = _member(request, user_id)
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
    membership = _member(request, user_id)
    member_remove(membership=membership, by=_by(request), actor=actor_from_request(request))
    return Status(204, None)


@router.post("/{user_id}/deactivate", response=UserOut, summary="Suspend; revoke credentials")
@requires("user:deactivate", resource=user_resource)
def deactivate_user(request, user_id: str):
    membership = _member(request, user_id)
    member_deactivate(membership=membership, by=_by(request), actor=actor_from_request(request))
    return _fresh(request, membership)


@router.post("/{user_id}/reactivate", response=UserOut, summary="Make the membership active")
@requires("user:deactivate", resource=user_resource)
def reactivate_user(request, user_id: str):
    membership = _member(request, user_id)
    member_reactivate(membership=membership, by=_by(request), actor=actor_from_request(request))
    return _fresh(request, membership)


# --- roles, overrides, effective permissions ---------------------------------------------------


@router.post("/{user_id}/roles", response=UserOut, summary="Assign roles")
@requires("role:assign", resource=user_resource)
def assign_roles(request, user_id: str, payload: RolesIn):
    membership = _member(request, user_id)
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
    membership = _member(request, user_id)
    member_role_unassign(
        membership=membership, slug=slug, by=_by(request), actor=actor_from_request(request)
    )
    return Status(204, None)


@router.get("/{user_id}/permissions", response=PermissionsOut, summary="Effective permissions")
@requires("user:read", resource=user_resource)
def user_permissions(request, user_id: str):
    """Every rule and grant in force for the member, with its source (role path, override,
    grant or delegation)."""
    membership = _member(request, user_id)
    return {
        "user_id": str(membership.user_id),
        "roles": member_role_slugs(membership),
        "permissions": effective_permissions_of(membership=membership),
    }


@router.put("/{user_id}/overrides", response=RulesOut, summary="Replace the member's overrides")
@requires("role:assign", resource=user_resource)
def set_overrides(request, user_id: str, payload: RulesIn):
    membership = _member(request, user_id)
    rules = overrides_set(
        membership=membership,
        rules=payload.rules,
        by=_by(request),
        actor=actor_from_request(request),
    )
    return {"rules": rules}
