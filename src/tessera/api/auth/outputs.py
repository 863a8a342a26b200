"""/api/v1/auth: the output schemas and the shaping of answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from ninja import Schema

from tessera.authn import selectors
from tessera.authn.sessions import IssuedTokens


class TenantRefOut(Schema):
    id: str
    slug: str
    name: str


class AuthUserOut(Schema):
    id: str
    email: str
    first_name: str
    last_name: str
    phone: str
    timezone: str
    language: str
    avatar_url: str
    is_platform_admin: bool


class MembershipRolesOut(Schema):
    tenant: TenantRefOut
    roles: list[str]


class LoginOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    session_id: str
    user: AuthUserOut
    tenant: TenantRefOut | None
    memberships: list[MembershipRolesOut]
    password_change_required: bool = False
    mfa_setup_required: bool = False


class MfaRequiredOut(Schema):
    mfa_required: bool = True
    mfa_token: str


class TokensOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class AuthMembershipOut(Schema):
    id: str
    status: str
    department: str
    job_title: str
    employee_id: str | None
    cost_center: str
    clearance_level: int


class MeOut(Schema):
    user: AuthUserOut
    tenant: TenantRefOut | None
    membership: AuthMembershipOut | None
    roles: list[str]
    permissions: list[str]
    session_id: str | None = None
    password_change_required: bool = False
    mfa_setup_required: bool = False


class AcceptedOut(Schema):
    detail: str


class SessionOut(Schema):
    id: str
    created_at: datetime
    last_activity: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str
    auth_method: str
    tenant_id: str | None
    current: bool
    impersonator_id: str | None = None  # an impersonation session: who acts as this person
    impersonation_reason: str | None = None


class SessionPage(Schema):
    items: list[SessionOut]
    next_cursor: str | None


def tenant_ref_as_dict(tenant) -> dict[str, Any] | None:
    if tenant is None:
        return None
    return {"id": str(tenant.pk), "slug": tenant.slug, "name": tenant.name}


def user_as_dict(user) -> dict[str, Any]:
    return {
        "id": str(user.pk),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "timezone": user.timezone,
        "language": user.language,
        "avatar_url": user.avatar_url,
        "is_platform_admin": user.is_platform_admin,
    }


def membership_as_dict(membership) -> dict[str, Any] | None:
    if membership is None:
        return None
    return {
        "id": str(membership.pk),
        "status": membership.status,
        "department": membership.department,
        "job_title": membership.job_title,
        "employee_id": membership.employee_id,
        "cost_center": membership.cost_center,
        "clearance_level": membership.clearance_level,
    }


def session_answer(
    tokens: IssuedTokens,
    *,
    user,
    tenant,
    password_change_required: bool,
    mfa_setup_required: bool = False,
    memberships_with_roles=None,
):
    """The answer of a completed sign-in (`memberships_with_roles`: the person's active
    memberships in active tenants with their role slugs, when the sign-in has read them)."""
    now = timezone.now()
    if memberships_with_roles is None:
        memberships_with_roles = selectors.memberships_with_roles(user_id=user.pk, now=now)
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "session_id": str(tokens.session.pk),
        "user": user_as_dict(user),
        "tenant": tenant_ref_as_dict(tenant),
        "memberships": [
            {"tenant": tenant_ref_as_dict(m.tenant), "roles": roles}
            for m, roles in memberships_with_roles
        ],
        "password_change_required": password_change_required,
        "mfa_setup_required": mfa_setup_required,
    }
