"""A member's sign-in, seen and ended by an administrator of the tenant.

    GET    /api/v1/users/{id}/sessions               session:read
    DELETE /api/v1/users/{id}/sessions               session:revoke (all of them)
    DELETE /api/v1/users/{id}/sessions/{session_id}  session:revoke (one)
    POST   /api/v1/users/{id}/mfa/reset              user:update (lost device)

`{id}` is the person's global user id, addressing their membership in the caller's tenant
(another tenant's user, or an unknown id, answers 404). Besides the permission, the member's
effective permissions must lie within the caller's (403 `target_outranks_you`); the rules are in
`tessera.authn.member_security`. Mounted under the users prefix next to `tessera.api.users`.
"""

from __future__ import annotations

from ninja import Router, Status

from tessera.access.bridge.guard import requires
from tessera.api.member_security.outputs import MemberSessionPage, MfaResetOut, SessionsEndedOut
from tessera.api.pagination import clamp_limit, decode_created_cursor, encode_created_cursor
from tessera.api.problems import Problem
from tessera.api.security import principal_auth
from tessera.api.users.lookup import member_or_404, user_resource
from tessera.audit.actors import actor_from_request
from tessera.authn.member_security import (
    member_mfa_reset,
    member_session_end,
    member_sessions,
    member_sessions_end,
)

router = Router(tags=["users"], auth=principal_auth)


@router.get(
    "/{user_id}/sessions",
    response=MemberSessionPage,
    summary="A member's live sessions in this tenant, newest first",
)
@requires("session:read", resource=user_resource)
def list_member_sessions(request, user_id: str, limit: int = 50, cursor: str | None = None):
    membership = member_or_404(request, user_id)
    size = clamp_limit(limit)
    rows = member_sessions(
        membership=membership,
        by=request.membership,
        limit=size + 1,
        after=decode_created_cursor(cursor),
    )
    more = len(rows) > size
    rows = rows[:size]
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
                "mfa_verified": s.mfa_verified_at is not None,
                "impersonator_id": str(s.impersonator_id) if s.impersonator_id else None,
            }
            for s in rows
        ],
        "next_cursor": encode_created_cursor(rows[-1]) if more else None,
    }


@router.delete(
    "/{user_id}/sessions",
    response=SessionsEndedOut,
    summary="End every session of a member in this tenant",
)
@requires("session:revoke", resource=user_resource)
def end_member_sessions(request, user_id: str):
    membership = member_or_404(request, user_id)
    ended = member_sessions_end(
        membership=membership, by=request.membership, actor=actor_from_request(request)
    )
    return {"ended": ended}


@router.delete(
    "/{user_id}/sessions/{session_id}",
    response={204: None},
    summary="End one session of a member",
)
@requires("session:revoke", resource=user_resource)
def end_member_session(request, user_id: str, session_id: str):
    membership = member_or_404(request, user_id)
    member_session_end(
        membership=membership,
        session_id=session_id,
        by=request.membership,
        actor=actor_from_request(request),
    )
    return Status(204, None)


@router.post(
    "/{user_id}/mfa/reset",
    response={200: MfaResetOut, 409: Problem},
    summary="Remove a member's second factor (lost device); ends their sessions",
    description=(
        "Removes the TOTP factor, the backup codes and the trusted devices, and ends every "
        "session of the person, who sets up a new factor at their next login (when the tenant "
        "requires one). Needs `user:update` and a member whose permissions lie within the "
        "caller's; 409 `mfa_managed_elsewhere` when the person also belongs to another tenant "
        "or is a platform administrator, 409 `self_action_forbidden` for oneself."
    ),
)
@requires("user:update", resource=user_resource)
def reset_member_mfa(request, user_id: str):
    membership = member_or_404(request, user_id)
    done = member_mfa_reset(
        membership=membership, by=request.membership, actor=actor_from_request(request)
    )
    return {
        "user_id": str(membership.user_id),
        "totp_removed": done.totp_removed,
        "backup_codes_removed": done.backup_codes_removed,
        "trusted_devices_revoked": done.trusted_devices_revoked,
        "sessions_ended": done.sessions_ended,
    }
