"""/api/v1/auth: login, refresh, logout, tenant switch, me, password change and reset, sessions.

Thin transport: the schemas validate and shape, the views call tessera.authn (flows, services,
selectors). No secret (password, refresh or reset token) is logged; a refresh token appears only in
the answer that creates it.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from ninja import Router, Status

from tessera.access.selectors import membership_role_slugs
from tessera.api.auth.inputs import (
    LoginIn,
    LogoutIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    SwitchTenantIn,
    logout_input,
)
from tessera.api.auth.outputs import (
    AcceptedOut,
    LoginOut,
    MeOut,
    MfaRequiredOut,
    SessionPage,
    TokensOut,
    membership_as_dict,
    session_answer,
    tenant_ref_as_dict,
    user_as_dict,
)
from tessera.api.pagination import (
    clamp_limit,
    decode_created_cursor,
    encode_created_cursor,
)
from tessera.api.problems import Problem
from tessera.api.security import principal_auth
from tessera.api.transport import require_allowed_origin
from tessera.audit.actors import actor_from_request
from tessera.audit.models import AuditEventType
from tessera.authn import selectors
from tessera.authn.deferred import defer
from tessera.authn.flows.login import LoginPending, LoginSuccess, login_password
from tessera.authn.flows.switch import tenant_switch
from tessera.authn.impersonation_limits import impersonation_refuse_logout_all
from tessera.authn.passwords import password_change, password_reset_confirm, password_reset_request
from tessera.authn.reauthentication import session_end_by_owner
from tessera.authn.refresh import refresh_rotate
from tessera.authn.session_cookie import session_cookie_forget, session_cookie_set
from tessera.authn.sessions import session_revoke, sessions_revoke_for_user
from tessera.errors import NotFound, PermissionDenied

router = Router(tags=["auth"])


ERRORS_AUTH = {401: Problem, 403: Problem}


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
    assert outcome.tokens is not None  # an API sign-in issues tokens (an admin-site one has none)
    if payload.cookie:
        session_cookie_set(
            request, response, outcome.tokens.session, actor=actor_from_request(request)
        )
    return session_answer(
        outcome.tokens,
        user=outcome.user,
        tenant=outcome.tenant,
        password_change_required=outcome.password_change_required,
        mfa_setup_required=outcome.mfa_setup_required,
        memberships_with_roles=outcome.memberships_with_roles,
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
    if logout_input(request).all:
        if principal.impersonator_id is not None:
            impersonation_refuse_logout_all()
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
    session_cookie_forget(response)
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
        session_cookie_set(request, response, tokens.session, actor=actor_from_request(request))
    return session_answer(
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
        "user": user_as_dict(principal.user),
        "tenant": tenant_ref_as_dict(tenant),
        "membership": membership_as_dict(membership),
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
                "impersonator_id": str(s.impersonator_id) if s.impersonator_id else None,
                "impersonation_reason": s.impersonation_reason or None,
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
        session_cookie_forget(response)
    return Status(204, None)
