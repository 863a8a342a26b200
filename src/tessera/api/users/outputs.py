"""/api/v1/users: the output schemas and the shaping of answers."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from tessera.administration.member_selectors import member_role_slugs
from tessera.administration.members import _profile_is_tenant_owned
from tessera.api.rule_schema import RuleList
from tessera.tenancy.models import Membership, MembershipStatus


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


def member_as_dict(m: Membership) -> dict[str, Any]:
    """One member as this tenant may see them: the same fields for everyone, and nothing the
    person's other tenants know. An invited person shows only the address the tenant typed; the
    global profile appears once they accept. Global state (e.g. a pending password change) shows
    only to the tenant that manages the identity."""
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
        "manager_id": str(m.manager.user_id) if m.manager is not None else None,
        "roles": member_role_slugs(m),
        "gdpr_consent_at": m.gdpr_consent_at,
        "must_change_password": user.must_change_password if managed_here else False,
        "profile_editable": _profile_is_tenant_owned(membership=m),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    }


def member_row_as_dict(row: dict[str, Any]) -> dict[str, Any]:
    """`member_as_dict` for a row of `member_rows_page` (the list): the same fields and rules,
    read from plain columns instead of model instances."""
    consented = row["status"] != MembershipStatus.INVITED
    managed_here = row["user__managed_by_tenant_id"] == row["tenant_id"]
    first, last = row["user__first_name"], row["user__last_name"]
    manager = row["manager__user_id"]
    return {
        "id": str(row["user_id"]),
        "email": row["user__email"],
        "first_name": first if consented else "",
        "last_name": last if consented else "",
        "full_name": f"{first} {last}".strip() if consented else "",
        "is_active": row["user__is_active"] if consented else True,
        "status": row["status"],
        "membership_id": str(row["id"]),
        "department": row["department"],
        "job_title": row["job_title"],
        "employee_id": row["employee_id"],
        "cost_center": row["cost_center"],
        "clearance_level": row["clearance_level"],
        "attributes": row["attributes"] or {},
        "manager_id": str(manager) if manager is not None else None,
        "roles": row["roles"],
        "gdpr_consent_at": row["gdpr_consent_at"],
        "must_change_password": row["user__must_change_password"] if managed_here else False,
        "profile_editable": (
            not row["user__is_platform_admin"]
            and managed_here
            and row["status"] == MembershipStatus.ACTIVE
        ),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def user_page_response(items: list[dict[str, Any]], next_cursor: str | None) -> HttpResponse:
    """A `UserPage` rendered as django-ninja renders it, without validating each of the (already
    well-typed) rows against `UserOut` again: that validation was a fifth of a page's CPU."""
    body = json.dumps({"items": items, "next_cursor": next_cursor}, cls=NinjaJSONEncoder)
    return HttpResponse(body, content_type="application/json; charset=utf-8")
