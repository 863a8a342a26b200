"""/api/v1/auth: login, refresh, logout, tenant switch, me, password change and reset, sessions.

Thin transport: the schemas validate and shape, the views call tessera.authn (flows, services,
selectors). No secret (password, refresh or reset token) is logged; a refresh token appears only in
the answer that creates it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ValidationError as PydanticValidationError

from tessera.access.selectors import membership_role_slugs
from tessera.api.pagination import (
    clamp_limit,
    decode_created_cursor,
    encode_created_cursor,
)
from tessera.api.security import principal_auth
from tessera.api.transport import require_allowed_origin
from tessera.audit.actors import actor_from_request
from tessera.audit.models import AuditEventType
from tessera.authn import selectors
from tessera.authn.deferred import defer
from tessera.authn.flows.login import LoginPending, LoginSuccess, login_password
from tessera.authn.flows.switch import tenant_switch
from tessera.authn.models import Session
from tessera.authn.passwords import password_change, password_reset_confirm, password_reset_request
from tessera.authn.reauthentication import session_end_by_owner
from tessera.authn.refresh import refresh_rotate
from tessera.authn.session_cookie import session_cookie_forget, session_cookie_set
from tessera.authn.sessions import IssuedTokens, session_revoke, sessions_revoke_for_user
from tessera.errors import NotFound, PermissionDenied, ValidationFailed, field_error

router = Router(tags=["auth"])

MAX_PASSWORD_INPUT = 1024


# --- schemas ------------------------------------------------------------------------------------


class FieldProblem(Schema):
    field: str
    message: str
    code: str


class Problem(Schema):
    """An RFC 9457 problem (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None


class LoginIn(Schema):
    email: str = Field(..., max_length=320)
    password: str = Field(..., max_length=MAX_PASSWORD_INPUT)
    tenant: str | None = Field(None, max_length=64, description="tenant slug (or id)")
    cookie: bool = Field(False, description="also set the HttpOnly session cookie")
    device_token: str | None = Field(
        None,
        max_length=256,
        description="a trusted device's token (from /auth/mfa/verify): skips the MFA step",
    )


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


class RefreshIn(Schema):
    refresh_token: str = Field(..., max_length=512)


class TokensOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class LogoutIn(Schema):
    all: bool = False


class SwitchTenantIn(Schema):
    tenant: str = Field(..., max_length=64, description="tenant slug (or id)")


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


class PasswordChangeIn(Schema):
    current_password: str = Field(..., max_length=MAX_PASSWORD_INPUT)
    new_password: str = Field(..., max_length=MAX_PASSWORD_INPUT)


class PasswordResetIn(Schema):
    email: str = Field(..., max_length=320)


class PasswordResetConfirmIn(Schema):
    token: str = Field(..., max_length=512)
    new_password: str = Field(..., max_length=MAX_PASSWORD_INPUT)


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


class SessionPage(Schema):
    items: list[SessionOut]
    next_cursor: str | None


# --- shaping ------------------------------------------------------------------------------------


def _tenant(tenant) -> dict[str, Any] | None:
    if tenant is None:
        return None
    return {"id": str(tenant.pk), "slug": tenant.slug, "name": tenant.name}


def _user(user) -> dict[str, Any]:
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


def _membership(membership) -> dict[str, Any] | None:
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


def _session_answer(
    tokens: IssuedTokens,
    *,
    user,
    tenant,
    password_change_required: bool,
    mfa_setup_required: bool = False,
):
    now = timezone.now()
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "session_id": str(tokens.session.pk),
        "user": _user(user),
        "tenant": _tenant(tenant),
        "memberships": [
            {"tenant": _tenant(m.tenant), "roles": roles}
            for m, roles in selectors.memberships_with_roles(user_id=user.pk, now=now)
        ],
        "password_change_required": password_change_required,
        "mfa_setup_required": mfa_setup_required,
    }


def _set_session_cookie(request, response: HttpResponse, session: Session) -> None:
    session_cookie_set(request, response, session, actor=actor_from_request(request))


def _forget_session_cookie(response: HttpResponse) -> None:
    session_cookie_forget(response)


ERRORS_401 = {401: Problem}
ERRORS_AUTH = {401: Problem, 403: Problem}


# --- endpoints ----------------------------------------------------------------------------------


@router.post(
    "/login",
    response={
        200: LoginOut | MfaRequiredOut,
        401: Problem,
        403: Problem,
        422: Problem,
        429: Problem,
    },
    summary="Sign in with email and password",
    description=(
        "Without `tenant`, the tokens are bound to the user's only active membership, or to no "
        "tenant (use `switch-tenant`). 401 for any bad credentials (one body for every reason); "
        "403 when `tenant` names a tenant the user is not an active member of, or (403 "
        "`origin_not_allowed`) when `cookie` is asked from an origin that is not allowed; 429 with "
        "`Retry-After` while the account is locked or the client IP is blocked. When the user "
        "has MFA the answer is `{mfa_required: true, mfa_token}` (finish with "
        "`POST /api/v1/auth/mfa/verify`), unless `device_token` names a device trusted earlier; "
        "`mfa_setup_required: true` when the tenant requires MFA the user has not set up (the "
        "tokens then allow only `me`, `mfa/totp/setup`, `mfa/totp/confirm` and `logout`)."
    ),
)
def login(request, response: HttpResponse, payload: LoginIn):
    if payload.cookie:
        require_allowed_origin(request)
    named = getattr(request, "tenant", None)  # X-Tenant or subdomain, when `tenant` is absent
    outcome = login_password(
        email=payload.email,
        password=payload.password,
        tenant=payload.tenant or (named.slug if named is not None else None),
        actor=actor_from_request(request),
        device_token=payload.device_token,
    )
    if isinstance(outcome, LoginPending):
        return {"mfa_required": True, "mfa_token": outcome.token, **outcome.data}
    assert isinstance(outcome, LoginSuccess)
    if payload.cookie:
        _set_session_cookie(request, response, outcome.tokens.session)
    return _session_answer(
        outcome.tokens,
        user=outcome.user,
        tenant=outcome.tenant,
        password_change_required=outcome.password_change_required,
        mfa_setup_required=outcome.mfa_setup_required,
    )


@router.post(
    "/refresh",
    response={200: TokensOut, 401: Problem, 422: Problem},
    summary="Exchange a refresh token for new tokens (rotation)",
    description=(
        "Each refresh token works once. Presenting one that was already used revokes the whole "
        "session (reuse detection)."
    ),
)
def refresh(request, payload: RefreshIn):
    tokens = refresh_rotate(raw=payload.refresh_token, actor=actor_from_request(request))
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
    }


def _logout_input(request) -> LogoutIn:
    """The optional JSON body: absent, empty or not JSON means `{"all": false}` (the narrower
    logout: a body that cannot widen it needs no 415)."""
    if request.content_type != "application/json" or not request.body.strip():
        return LogoutIn()
    try:
        return LogoutIn.model_validate_json(request.body)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            "The request does not match the schema.",
            errors=[
                field_error(".".join(str(p) for p in e["loc"]) or "body", e["msg"], e["type"])
                for e in exc.errors()
            ],
        ) from None


@router.post(
    "/logout",
    auth=principal_auth,
    response={204: None, **ERRORS_AUTH, 422: Problem},
    summary="End this session (or, with `all`, every session of the user)",
    description="The body is optional; without it only the current session ends.",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": LogoutIn.model_json_schema()}},
        }
    },
)
def logout(request, response: HttpResponse):
    principal = request.principal
    actor = actor_from_request(request)
    if _logout_input(request).all:
        sessions_revoke_for_user(
            user=principal.user, reason="logout_all", actor=actor, audit_type=AuditEventType.LOGOUT
        )
    elif principal.session_id is not None:
        session = selectors.session_get_for_user(
            user_id=principal.user_id, session_id=principal.session_id
        )
        if session is not None:
            session_revoke(
                session=session, reason="logout", actor=actor, audit_type=AuditEventType.LOGOUT
            )
    _forget_session_cookie(response)
    return Status(204, None)


@router.post(
    "/switch-tenant",
    auth=principal_auth,
    response={200: LoginOut | MfaRequiredOut, **ERRORS_AUTH, 422: Problem},
    summary="New tokens for another tenant of the user",
    description=(
        "The session moves to that tenant; tokens issued for the former one stop working. That "
        "tenant's authentication policy applies: when it asks for a second factor this session "
        "has not given (or gave only through a trusted device the tenant forbids), the answer is "
        "`{mfa_required: true, mfa_token}` and `POST /api/v1/auth/mfa/verify` signs in to it."
    ),
)
def switch_tenant(request, response: HttpResponse, payload: SwitchTenantIn):
    principal = request.principal
    if principal.session_id is None:
        raise PermissionDenied(
            "Switching tenants needs a session from POST /api/v1/auth/login",
            code="session_required",
        )
    outcome = tenant_switch(
        session_id=principal.session_id,
        user=principal.user,
        tenant_hint=payload.tenant,
        actor=actor_from_request(request),
    )
    if isinstance(outcome, LoginPending):
        return {"mfa_required": True, "mfa_token": outcome.token, **outcome.data}
    tokens = outcome.tokens
    if principal.auth_method == "session_cookie":
        _set_session_cookie(request, response, tokens.session)
    return _session_answer(
        tokens,
        user=principal.user,
        tenant=tokens.session.tenant,
        password_change_required=principal.password_change_required,
        mfa_setup_required=outcome.mfa_setup_required,
    )


@router.get(
    "/me",
    auth=principal_auth,
    response={200: MeOut, **ERRORS_AUTH},
    summary="The caller: identity, tenant, membership, roles and permissions there",
)
def me(request):
    principal = request.principal
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    now = timezone.now()
    roles: list[str] = []
    permissions: list[str] = []
    if membership is not None:
        roles = membership_role_slugs(membership_id=membership.pk, now=now)
        tv, mv = principal.tenant_version, principal.membership_version
        if str(principal.membership_id) != str(membership.pk):
            tv = mv = 0  # a tenant named by header: versions read from the database
        permissions = selectors.membership_permissions(
            membership=membership, tenant_version=tv, membership_version=mv, now=now
        )
    return {
        "user": _user(principal.user),
        "tenant": _tenant(tenant),
        "membership": _membership(membership),
        "roles": roles,
        "permissions": permissions,
        "session_id": str(principal.session_id) if principal.session_id else None,
        "password_change_required": principal.password_change_required,
        "mfa_setup_required": principal.mfa_setup_required,
    }


@router.post(
    "/password/change",
    auth=principal_auth,
    response={204: None, **ERRORS_AUTH, 422: Problem, 429: Problem},
    summary="Change one's password (every other session is revoked)",
    description=(
        "422 lists every broken password rule in `errors` (field `new_password`), or a wrong "
        "`current_password`."
    ),
)
def change_password(request, payload: PasswordChangeIn):
    principal = request.principal
    actor = actor_from_request(request)
    password_change(
        user=principal.user,
        session_id=principal.session_id,
        current_password=payload.current_password,
        new_password=payload.new_password,
        actor=actor,
        ip=actor.ip,
    )
    return Status(204, None)


@router.post(
    "/password/reset",
    response={202: AcceptedOut, 422: Problem},
    summary="Email a password-reset link (always 202)",
)
def reset_password(request, payload: PasswordResetIn):
    # the lookup, token, audit event and mail happen after the answer is sent: known and unknown
    # addresses get the same bytes in the same time
    defer(request, password_reset_request, email=payload.email, actor=actor_from_request(request))
    return Status(
        202, {"detail": "If the address belongs to an account, a reset link is on its way."}
    )


@router.post(
    "/password/reset/confirm",
    response={204: None, 400: Problem, 422: Problem},
    summary="Set a new password with a reset token (single use, 1 hour)",
)
def reset_password_confirm(request, payload: PasswordResetConfirmIn):
    password_reset_confirm(
        token=payload.token, new_password=payload.new_password, actor=actor_from_request(request)
    )
    return Status(204, None)


@router.get(
    "/sessions",
    auth=principal_auth,
    response={200: SessionPage, **ERRORS_AUTH, 422: Problem},
    summary="The caller's live sessions, newest first",
)
def list_sessions(request, limit: int = 50, cursor: str | None = None):
    principal = request.principal
    size = clamp_limit(limit)
    after = decode_created_cursor(cursor)
    rows = selectors.sessions_live_for_user(
        user_id=principal.user_id, now=timezone.now(), limit=size + 1, after=after
    )
    more = len(rows) > size
    rows = rows[:size]
    current = str(principal.session_id) if principal.session_id else None
    return {
        "items": [
            {
                "id": str(s.pk),
                "created_at": s.created_at,
                "last_activity": s.last_activity_at,
                "expires_at": min(s.expires_at, s.absolute_expires_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "auth_method": s.auth_method,
                "tenant_id": str(s.tenant_id) if s.tenant_id else None,
                "current": str(s.pk) == current,
            }
            for s in rows
        ],
        "next_cursor": encode_created_cursor(rows[-1]) if more else None,
    }


@router.delete(
    "/sessions/{session_id}",
    auth=principal_auth,
    response={204: None, **ERRORS_AUTH, 404: Problem},
    summary="Revoke one of the caller's sessions",
    description=(
        "The current session ends at once. Another session ends only when the current one's "
        "password was entered in the last 10 minutes; else 403 `reauthentication_required` "
        "(sign in again and end it from the new session). `logout` with `all` needs no fresh "
        "password: it ends the caller's own session too."
    ),
)
def delete_session(request, response: HttpResponse, session_id: str):
    principal = request.principal
    session = selectors.session_get_for_user(user_id=principal.user_id, session_id=session_id)
    if session is None:
        raise NotFound("No such session")
    session_end_by_owner(
        session=session, current_session_id=principal.session_id, actor=actor_from_request(request)
    )
    if str(session.pk) == str(principal.session_id) and principal.auth_method == "session_cookie":
        _forget_session_cookie(response)
    return Status(204, None)
