"""Writes of authentication: sessions, refresh-token rotation, password change and reset, tenant
switch and cleanup. Each security-relevant write records its audit event in its transaction.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Least
from django.utils import timezone

from tessera import notifications
from tessera.access.versions import state_invalidate_session
from tessera.audit.models import ActorType, AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn import lockout
from tessera.authn.devices import devices_revoke_for_user
from tessera.authn.errors import (
    TOO_MANY_ATTEMPTS_DETAIL,
    ReauthenticationRequired,
    RefreshTokenInvalid,
    ResetTokenInvalid,
    SessionEnded,
    TooManyAttempts,
)
from tessera.authn.models import AuthMethod, PasswordResetToken, RefreshToken, Session
from tessera.authn.selectors import membership_role_slugs
from tessera.authn.tokens import access_token_issue
from tessera.crypto import opaque_token_hash, opaque_token_new
from tessera.errors import ValidationFailed, field_error
from tessera.identity.emails import normalize_email
from tessera.identity.models import User
from tessera.identity.passwords import password_validate
from tessera.identity.services import user_password_set
from tessera.tenancy.errors import NotAMember
from tessera.tenancy.models import Membership, MembershipStatus, Tenant
from tessera.tenancy.tenant_settings import SessionPolicy

ACTIVITY_WRITE_INTERVAL = timedelta(seconds=60)
RECENT_AUTH_WINDOW = timedelta(minutes=10)
RESET_TOKEN_TTL = timedelta(hours=1)
RESET_REQUESTS_PER_HOUR = 5
ENDED_SESSION_RETENTION = timedelta(days=7)


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
) -> Session:
    """A new server-side session; beyond the tenant's per-user limit the oldest ones are revoked.

    `policy`: limits other than the tenant's (the admin site's: `admin_session_policy()`)."""
    now = now or timezone.now()
    policy = policy or session_policy_for(tenant)
    idle = timedelta(minutes=policy.idle_timeout_minutes)
    absolute = now + timedelta(minutes=policy.absolute_lifetime_minutes)
    with transaction.atomic():
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
        )
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


def _tokens_issue(session: Session, now: datetime) -> tuple[IssuedTokens, RefreshToken]:
    raw, digest = opaque_token_new()
    expires = min(now + timedelta(seconds=settings.REFRESH_TOKEN_TTL), session.absolute_expires_at)
    row = RefreshToken.objects.create(
        session=session, token_hash=digest, created_at=now, expires_at=expires
    )
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
        now=now,
    )
    return IssuedTokens(access, raw, expires_in, session), row


def session_tokens_issue(*, session: Session, now: datetime | None = None) -> IssuedTokens:
    """A new refresh token (a new link of the session's chain) and an access token."""
    return _tokens_issue(session, now or timezone.now())[0]


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


# --- refresh tokens -------------------------------------------------------------------------------


def _membership_live(session: Session) -> bool:
    if session.membership_id is None:
        return True
    row = (
        Membership.objects.filter(pk=session.membership_id)
        .values_list("status", "tenant__is_active")
        .first()
    )
    return row is not None and row[0] == MembershipStatus.ACTIVE and bool(row[1])


def refresh_rotate(*, raw: str, actor: Actor | None = None) -> IssuedTokens:
    """Exchange a refresh token for new tokens; a spent one revokes its whole session.

    The token row is locked and marked spent with a conditional UPDATE, so of two concurrent
    exchanges of one token exactly one succeeds (the other is a reuse).
    """
    now = timezone.now()
    digest = opaque_token_hash(raw or "")
    reused: RefreshToken | None = None
    policy_ended = False
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("session", "session__user", "session__tenant", "session__membership")
            .filter(token_hash=digest)
            .first()
        )
        if row is None or row.revoked_at is not None:
            raise RefreshTokenInvalid("The refresh token is not valid")
        session = row.session
        client = _client_fingerprint(actor)
        if row.spent_at is not None:
            reused = row
        elif not RefreshToken.objects.filter(pk=row.pk, spent_at__isnull=True).update(
            spent_at=now, spent_by=client
        ):
            reused = row
            row.refresh_from_db()
        if reused is not None and _benign_retry(row, client=client, now=now):
            raise RefreshTokenInvalid("The refresh token was already used")
        if reused is not None:
            _refresh_reuse_detected(session=session, token=row, actor=actor, now=now)
        else:
            if (
                row.expires_at <= now
                or session.revoked_at is not None
                or session.expires_at <= now
                or session.absolute_expires_at <= now
                or not session.user.is_active
                or not _membership_live(session)
            ):
                raise RefreshTokenInvalid("The refresh token is not valid")
            policy_ended = not _tenant_policy_holds(session, actor=actor, now=now)
        if not policy_ended and reused is None:
            tokens, new_row = _tokens_issue(session, now)
            RefreshToken.objects.filter(pk=row.pk).update(replaced_by=new_row)
            Session.objects.filter(pk=session.pk).update(
                last_activity_at=now,
                expires_at=Least(
                    Value(now + timedelta(seconds=session.idle_seconds)), "absolute_expires_at"
                ),
            )
            state_invalidate_session(tenant_id=session.tenant_id, session_id=session.pk)
    if reused is not None:
        raise RefreshTokenInvalid("The refresh token was already used; the session is revoked")
    if policy_ended:
        raise RefreshTokenInvalid(
            "The tenant's sign-in policy now asks for more than this session gave; sign in again"
        )
    return tokens


def _tenant_policy_holds(session: Session, *, actor: Actor | None, now: datetime) -> bool:
    """The tenant's authentication policy, re-run at each refresh (it may have tightened since the
    sign-in): a session owing a second factor code ends (audited); one whose member must now set
    MFA up is limited to that setup. False when the session was ended."""
    from tessera.authn.flows.mfa import session_policy_gap

    gap = session_policy_gap(
        user_id=session.user_id,
        tenant=session.tenant,
        membership=session.membership,
        mfa_verified_at=session.mfa_verified_at,
        device_trusted=session.device_trusted,
    )
    if gap == "mfa":
        _session_end(session, now=now, reason="tenant_policy")
        audit_record(
            type=AuditEventType.SESSION_REVOKED,
            actor=_actor_for(actor, user_id=session.user_id),
            tenant_id=session.tenant_id,
            resource_type="session",
            resource_id=session.pk,
            changes={"reason": "tenant_policy", "needs": "mfa"},
        )
        return False
    if gap == "mfa_setup" and not session.mfa_setup_required:
        Session.objects.filter(pk=session.pk).update(mfa_setup_required=True)
        session.mfa_setup_required = True
    return True


def _client_fingerprint(actor: Actor | None) -> str:
    ip = actor.ip if actor is not None else ""
    agent = actor.user_agent if actor is not None else ""
    return opaque_token_hash(f"{ip or ''}|{agent or ''}")


def _benign_retry(row: RefreshToken, *, client: str, now: datetime) -> bool:
    """The same client again, moments after the exchange, and the replacement still unused."""
    grace = timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)
    replacement_unused = (
        row.replaced_by_id is None
        or not RefreshToken.objects.filter(pk=row.replaced_by_id, spent_at__isnull=False).exists()
    )
    return (
        row.spent_at is not None
        and now - row.spent_at <= grace
        and row.spent_by == client
        and replacement_unused
    )


def _refresh_reuse_detected(
    *, session: Session, token: RefreshToken, actor: Actor | None, now: datetime
) -> None:
    _session_end(session, now=now, reason="refresh_token_reuse")
    audit_record(
        type=AuditEventType.TOKEN_REUSE_DETECTED,
        actor=_actor_for(actor),
        tenant_id=session.tenant_id,
        resource_type="session",
        resource_id=session.pk,
        changes={"refresh_token_id": token.pk, "user_id": str(session.user_id)},
        risk_score=90,
    )


# --- tenant switch --------------------------------------------------------------------------------


def _active_membership(*, user, hint: str) -> tuple[Tenant, Membership]:
    hint = (hint or "").strip().lower()
    membership = (
        Membership.objects.select_related("tenant")
        .filter(
            user_id=user.pk,
            status=MembershipStatus.ACTIVE,
            tenant__is_active=True,
        )
        .filter(Q(tenant__slug=hint) | Q(tenant__id=_uuid_or_none(hint)))
        .first()
    )
    if membership is None:
        raise NotAMember("You are not an active member of this tenant")
    return membership.tenant, membership


def switch_target(*, user, hint: str) -> tuple[Tenant, Membership]:
    """The tenant named by `hint` and the user's active membership there (403 otherwise)."""
    return _active_membership(user=user, hint=hint)


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


def session_switch_tenant(
    *, session_id, user, tenant_hint: str, actor: Actor | None = None
) -> IssuedTokens:
    """Re-bind the session to another tenant of the user: new tokens; the old ones stop working.

    The session keeps its id; its idle timeout and absolute lifetime tighten to the new tenant's
    policy when that one is stricter, and beyond the new tenant's `max_sessions` the person's
    oldest other sessions end.
    """
    tenant, membership = _active_membership(user=user, hint=tenant_hint)
    now = timezone.now()
    policy = session_policy_for(tenant)
    with transaction.atomic():
        session = (
            Session.objects.select_for_update()
            .filter(pk=session_id, user_id=user.pk, revoked_at__isnull=True)
            .first()
        )
        if session is None:
            raise SessionEnded("The session has ended; sign in again")
        old_tenant_id = session.tenant_id
        idle = timedelta(minutes=policy.idle_timeout_minutes)
        session.absolute_expires_at = min(
            session.absolute_expires_at,
            session.created_at + timedelta(minutes=policy.absolute_lifetime_minutes),
        )
        session.idle_seconds = min(session.idle_seconds, int(idle.total_seconds()))
        session.tenant, session.membership = tenant, membership
        session.last_activity_at = now
        session.expires_at = min(
            now + timedelta(seconds=session.idle_seconds), session.absolute_expires_at
        )
        session.save(
            update_fields=[
                "tenant",
                "membership",
                "absolute_expires_at",
                "idle_seconds",
                "last_activity_at",
                "expires_at",
            ]
        )
        RefreshToken.objects.filter(session=session, spent_at__isnull=True).update(revoked_at=now)
        # the new tenant's session limit holds too (its policy runs on this door as on login);
        # serialised with the user's logins as session_create is
        list(User.objects.select_for_update().filter(pk=user.pk).order_by().values_list("pk"))
        _session_limit_enforce(
            user_id=user.pk, keep=session.pk, limit=policy.max_sessions, actor=actor, now=now
        )
        tokens = session_tokens_issue(session=session, now=now)
        state_invalidate_session(tenant_id=old_tenant_id, session_id=session.pk)
        state_invalidate_session(tenant_id=tenant.pk, session_id=session.pk)
        audit_record(
            type=AuditEventType.LOGIN,
            actor=_actor_for(actor, user_id=user.pk, membership_id=membership.pk),
            tenant_id=tenant.pk,
            resource_type="session",
            resource_id=session.pk,
            changes={
                "method": "switch_tenant",
                "from_tenant": str(old_tenant_id) if old_tenant_id else None,
            },
        )
    return tokens


# --- passwords ------------------------------------------------------------------------------------


def password_change(
    *,
    user: User,
    session_id,
    current_password: str,
    new_password: str,
    actor: Actor | None = None,
    ip: str | None = None,
) -> int:
    """Change one's own password; every other session of the user is revoked. Returns how many.

    The current password is the recent authentication this change needs: it is checked under the
    account lockout (a stolen token cannot be used to guess it), and marks the session as
    password-verified now.
    """
    wait = lockout.login_blocked(email=user.email, tenant=None, ip=ip)
    if wait:
        raise TooManyAttempts(TOO_MANY_ATTEMPTS_DETAIL, retry_after=wait)
    if not user.has_usable_password() or not user.check_password(current_password or ""):
        outcome = lockout.login_failed(email=user.email, tenant=None, ip=ip)
        if outcome.account_locked:
            audit_record(
                type=AuditEventType.ACCOUNT_LOCKED,
                actor=_actor_for(actor, user_id=user.pk),
                resource_type="user",
                resource_id=user.pk,
                changes={"during": "password_change"},
            )
        raise ValidationFailed(
            "The current password is not correct",
            code="invalid_current_password",
            errors=[
                field_error("current_password", "The current password is not correct.", "invalid")
            ],
        )
    lockout.login_succeeded(email=user.email, tenant=None)
    password_validate(new_password, user=user)
    now = timezone.now()
    with transaction.atomic():
        user_password_set(user=user, password=new_password, validate=False)
        tenant_id = None
        if session_id is not None:
            tenant_id = (
                Session.objects.filter(pk=session_id).values_list("tenant_id", flat=True).first()
            )
            Session.objects.filter(pk=session_id).update(
                password_verified_at=now, password_change_required=False
            )
            state_invalidate_session(tenant_id=tenant_id, session_id=session_id)
        revoked = sessions_revoke_for_user(
            user=user, reason="password_changed", actor=actor, except_session_id=session_id
        )
        devices_revoke_for_user(user_id=user.pk, now=now)  # MFA is asked again everywhere
        audit_record(  # in the trail of the tenant the change was made from (if any)
            type=AuditEventType.PASSWORD_CHANGE,
            actor=_actor_for(actor, user_id=user.pk),
            tenant_id=tenant_id,
            resource_type="user",
            resource_id=user.pk,
            changes={"other_sessions_revoked": revoked},
        )
    return revoked


def password_reset_request(*, email: str, actor: Actor | None = None) -> None:
    """Email a single-use reset link when the address belongs to an active person; else nothing.

    The caller answers 202 either way. Requests per address are capped (silently) so the endpoint
    cannot be used to flood someone's mailbox.
    """
    try:
        normalized = normalize_email(email)
    except ValidationFailed:
        return
    if not lockout.reset_request_allowed(email=normalized, per_hour=RESET_REQUESTS_PER_HOUR):
        return
    user = User.objects.filter(email=normalized, is_active=True, is_service_account=False).first()
    if user is None:
        return
    now = timezone.now()
    raw, digest = opaque_token_new()
    ip = actor.ip if actor else None
    with transaction.atomic():
        PasswordResetToken.objects.create(
            user=user, token_hash=digest, created_at=now, expires_at=now + RESET_TOKEN_TTL, ip=ip
        )
        audit_record(
            type=AuditEventType.PASSWORD_RESET,
            actor=actor,
            resource_type="user",
            resource_id=user.pk,
            changes={"stage": "requested"},
        )
    from tessera.identity.mailer import mail_queue, page_link

    mail_queue("password_reset", to=user.email, context={}, link=page_link("password_reset", raw))


def password_reset_confirm(*, token: str, new_password: str, actor: Actor | None = None) -> None:
    """Set a new password with a reset token: single use, 1 hour; every session is revoked."""
    now = timezone.now()
    row = (
        PasswordResetToken.objects.select_related("user")
        .filter(token_hash=opaque_token_hash(token or ""), used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None or not row.user.is_active or row.user.is_service_account:
        raise ResetTokenInvalid("The reset link is invalid or has expired")
    user = row.user
    password_validate(new_password, user=user)
    with transaction.atomic():
        if not PasswordResetToken.objects.filter(pk=row.pk, used_at__isnull=True).update(
            used_at=now
        ):
            raise ResetTokenInvalid("The reset link is invalid or has expired")
        PasswordResetToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        user_password_set(user=user, password=new_password, validate=False)
        revoked = sessions_revoke_for_user(user=user, reason="password_reset", actor=actor)
        devices_revoke_for_user(user_id=user.pk)
        audit_record(
            type=AuditEventType.PASSWORD_RESET,
            actor=_actor_for(actor, user_id=user.pk),
            resource_type="user",
            resource_id=user.pk,
            changes={"stage": "completed", "sessions_revoked": revoked},
        )
    lockout.account_unlock(email=user.email)


# --- cleanup --------------------------------------------------------------------------------------


def authn_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Delete what can no longer be used: sessions ended a week ago (with their refresh tokens),
    expired refresh tokens, used or expired reset tokens, signing keys past their last token."""
    from tessera.authn.keys import signing_keys_prune

    now = now or timezone.now()
    cutoff = now - ENDED_SESSION_RETENTION
    _, ended = Session.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff) | Q(absolute_expires_at__lt=cutoff)
    ).delete()
    refresh, _ = RefreshToken.objects.filter(expires_at__lt=now).delete()
    resets, _ = PasswordResetToken.objects.filter(
        Q(expires_at__lt=now) | Q(used_at__isnull=False)
    ).delete()
    return {
        "sessions": ended.get("authn.Session", 0),
        "refresh_tokens": refresh + ended.get("authn.RefreshToken", 0),
        "password_reset_tokens": resets,
        "signing_keys": signing_keys_prune(now=now),
    }
