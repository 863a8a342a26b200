"""Sessions: create, issue tokens, end, revoke, touch, limit, and the recent-authentication check.
Each security-relevant write records its audit event in its transaction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Least
from django.utils import timezone

from tessera import notifications
from tessera.access.selectors import membership_role_slugs
from tessera.audit.models import ActorType, AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.errors import (
    ReauthenticationRequired,
)
from tessera.authn.models import AuthMethod, RefreshToken, Session
from tessera.authn.session_state import state_invalidate_session
from tessera.authn.tokens import access_token_issue
from tessera.crypto import opaque_token_new
from tessera.identity.models import User
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.tenant_settings import SessionPolicy

ACTIVITY_WRITE_INTERVAL = timedelta(seconds=60)
RECENT_AUTH_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """A fresh access token and refresh token for a session (the raw refresh token: shown once)."""

    access_token: str
    refresh_token: str
    expires_in: int
    session: Session


def _actor_for(actor: Actor | None, *, user_id=None, membership_id=None) -> Actor:
    """The request's actor, completed with the user it turned out to be."""
    actor = actor or Actor.system()
    changes: dict[str, Any] = {}
    if user_id is not None and actor.user_id is None:
        changes.update(type=ActorType.USER, user_id=user_id)
    if membership_id is not None and actor.membership_id is None:
        changes["membership_id"] = membership_id
    return dataclasses.replace(actor, **changes) if changes else actor


def session_policy_for(tenant) -> SessionPolicy:
    return tenant.policy.sessions if tenant is not None else SessionPolicy()


def admin_session_policy() -> SessionPolicy:
    """The platform's limits for admin-site sessions (settings.ADMIN_SESSION_*)."""
    return SessionPolicy(
        idle_timeout_minutes=settings.ADMIN_SESSION_IDLE_MINUTES,
        absolute_lifetime_minutes=settings.ADMIN_SESSION_LIFETIME_MINUTES,
    )


# --- sessions -------------------------------------------------------------------------------------


def _live_sessions(user_id, now: datetime):
    return Session.objects.filter(
        user_id=user_id,
        revoked_at__isnull=True,
        expires_at__gt=now,
        absolute_expires_at__gt=now,
    )


def session_end_by_id(session_id, tenant_id, *, now: datetime, reason: str) -> bool:
    """Mark one session revoked (and its refresh tokens); False when it already was.

    The revocation holds on the next request in every process (state cache rewritten after
    commit) and the owner's WebSocket connections get `session.revoked` after commit.
    """
    ended = Session.objects.filter(pk=session_id, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason[:64]
    )
    if not ended:
        return False
    RefreshToken.objects.filter(session_id=session_id, revoked_at__isnull=True).update(
        revoked_at=now
    )
    state_invalidate_session(tenant_id=tenant_id, session_id=session_id)
    user_id = Session.objects.filter(pk=session_id).values_list("user_id", flat=True).first()
    notifications.session_revoked.publish(
        user_id=user_id, session_id=session_id, reason=reason, tenant_id=tenant_id
    )
    return True


def _session_end(session: Session, *, now: datetime, reason: str) -> bool:
    ended = session_end_by_id(session.pk, session.tenant_id, now=now, reason=reason)
    if ended:
        session.revoked_at, session.revoked_reason = now, reason[:64]
    return ended


def session_create(
    *,
    user: User,
    tenant: Tenant | None,
    membership: Membership | None,
    ip: str | None,
    user_agent: str = "",
    auth_method: str = AuthMethod.PASSWORD,
    password_verified_at: datetime | None = None,
    mfa_verified_at: datetime | None = None,
    password_change_required: bool = False,
    device_info: dict | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
    policy: SessionPolicy | None = None,
    impersonator: User | None = None,
    impersonation_reason: str = "",
    lifetime: timedelta | None = None,
) -> Session:
    """A new server-side session; beyond the tenant's per-user limit the oldest ones are revoked.

    `policy`: limits other than the tenant's (the admin site's: `admin_session_policy()`).
    `impersonator`: an impersonation session of `user` (see `tessera.authn.impersonation`): it
    ends `lifetime` after its start at the latest and never pushes the person's own sessions out
    of the limit."""
    now = now or timezone.now()
    policy = policy or session_policy_for(tenant)
    idle = timedelta(minutes=policy.idle_timeout_minutes)
    absolute = now + timedelta(minutes=policy.absolute_lifetime_minutes)
    if lifetime is not None:
        absolute = min(absolute, now + lifetime)
    with transaction.atomic(savepoint=False):  # inside a login's transaction: joins it
        # serialise logins of one user so two of them cannot both keep the limit's last slot
        list(User.objects.select_for_update().filter(pk=user.pk).order_by().values_list("pk"))
        session = Session.objects.create(
            user=user,
            tenant=tenant,
            membership=membership,
            last_activity_at=now,
            expires_at=min(now + idle, absolute),
            absolute_expires_at=absolute,
            idle_seconds=int(idle.total_seconds()),
            ip=ip,
            user_agent=(user_agent or "")[:512],
            device_info=device_info or {},
            auth_method=auth_method,
            password_verified_at=password_verified_at,
            mfa_verified_at=mfa_verified_at,
            password_change_required=password_change_required,
            impersonator=impersonator,
            impersonation_reason=impersonation_reason[:500],
        )
        if impersonator is None:
            _session_limit_enforce(
                user_id=user.pk, keep=session.pk, limit=policy.max_sessions, actor=actor, now=now
            )
    return session


def _session_limit_enforce(*, user_id, keep, limit: int, actor: Actor | None, now) -> None:
    """Beyond `limit` live sessions of the user (counting `keep`), the oldest others end."""
    live = list(
        _live_sessions(user_id, now)
        .exclude(pk=keep)
        .order_by("created_at", "id")
        .values_list("pk", "tenant_id")
    )
    excess = len(live) + 1 - limit
    for old_id, old_tenant_id in live[: max(0, excess)]:
        if session_end_by_id(old_id, old_tenant_id, now=now, reason="session_limit"):
            audit_record(
                type=AuditEventType.SESSION_REVOKED,
                actor=_actor_for(actor, user_id=user_id),
                tenant_id=old_tenant_id,
                resource_type="session",
                resource_id=old_id,
                changes={"reason": "session_limit", "limit": limit},
            )


def _tokens_issue(
    session: Session, now: datetime, roles: list[str] | None = None
) -> tuple[IssuedTokens, RefreshToken]:
    raw, digest = opaque_token_new()
    expires = min(now + timedelta(seconds=settings.REFRESH_TOKEN_TTL), session.absolute_expires_at)
    row = RefreshToken.objects.create(
        session=session, token_hash=digest, created_at=now, expires_at=expires
    )
    if roles is None:
        roles = (
            membership_role_slugs(membership_id=session.membership_id, now=now)
            if session.membership_id is not None
            else []
        )
    access, expires_in = access_token_issue(
        user_id=session.user_id,
        session_id=session.pk,
        tenant_id=session.tenant_id,
        membership_id=session.membership_id,
        roles=roles,
        actor_id=session.impersonator_id,
        now=now,
    )
    return IssuedTokens(access, raw, expires_in, session), row


def session_tokens_issue(
    *, session: Session, now: datetime | None = None, roles: list[str] | None = None
) -> IssuedTokens:
    """A new refresh token (a new link of the session's chain) and an access token (`roles`:
    the session's membership's unexpired role slugs at `now`, when the caller has read them)."""
    return _tokens_issue(session, now or timezone.now(), roles)[0]


def session_revoke(
    *,
    session: Session,
    reason: str,
    actor: Actor | None = None,
    audit_type: str = AuditEventType.SESSION_REVOKED,
) -> bool:
    """End one session at once (logout, revocation by its owner); False if it had already ended."""
    now = timezone.now()
    with transaction.atomic():
        ended = _session_end(session, now=now, reason=reason)
        if ended:
            audit_record(
                type=audit_type,
                actor=_actor_for(actor, user_id=session.user_id),
                tenant_id=session.tenant_id,
                resource_type="session",
                resource_id=session.pk,
                changes={"reason": reason},
            )
    return ended


def sessions_revoke_for_user(
    *,
    user,
    reason: str,
    actor: Actor | None = None,
    except_session_id=None,
    audit_type: str = AuditEventType.SESSION_REVOKED,
) -> int:
    """End every live session of the user (but `except_session_id`); one audit event per tenant.

    Whoever deactivates a user (User.is_active=False) calls this too, so that cached session state
    is dropped at once.
    """
    now = timezone.now()
    with transaction.atomic():
        sessions = Session.objects.select_for_update().filter(
            user_id=user.pk, revoked_at__isnull=True
        )
        if except_session_id is not None:
            sessions = sessions.exclude(pk=except_session_id)
        by_tenant: dict[Any, list[str]] = {}
        for session in sessions:
            if _session_end(session, now=now, reason=reason):
                by_tenant.setdefault(session.tenant_id, []).append(str(session.pk))
        for tenant_id, ids in by_tenant.items():
            audit_record(
                type=audit_type,
                actor=_actor_for(actor, user_id=user.pk),
                tenant_id=tenant_id,
                resource_type="user",
                resource_id=user.pk,
                changes={"reason": reason, "sessions": ids},
            )
    return sum(len(ids) for ids in by_tenant.values())


def session_touch(*, session_id, tenant_id, idle_seconds: int, now: datetime) -> bool:
    """Move the idle expiry with activity: at most one write per session per minute."""
    new_expiry = now + timedelta(seconds=idle_seconds)
    touched = Session.objects.filter(
        pk=session_id,
        revoked_at__isnull=True,
        last_activity_at__lte=now - ACTIVITY_WRITE_INTERVAL,
    ).update(last_activity_at=now, expires_at=Least(Value(new_expiry), "absolute_expires_at"))
    if touched:
        state_invalidate_session(tenant_id=tenant_id, session_id=session_id)
    return bool(touched)


def session_require_recent_auth(
    *, session_id, now: datetime | None = None, detail: str | None = None
) -> None:
    """403 unless the session's password was entered within the last 10 minutes."""
    now = now or timezone.now()
    verified = (
        Session.objects.filter(pk=session_id).values_list("password_verified_at", flat=True).first()
        if session_id
        else None
    )
    if verified is None or now - verified > RECENT_AUTH_WINDOW:
        raise ReauthenticationRequired(
            detail
            or "Enter your password again: this change needs a sign-in from the last 10 minutes"
        )
