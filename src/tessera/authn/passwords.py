"""Password change and reset (the reset link is sent by email, usable once)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn import lockout
from tessera.authn.devices import devices_revoke_for_user
from tessera.authn.errors import (
    TOO_MANY_ATTEMPTS_DETAIL,
    ResetTokenInvalid,
    TooManyAttempts,
)
from tessera.authn.models import PasswordResetToken, Session
from tessera.authn.session_state import state_invalidate_session
from tessera.authn.sessions import _actor_for, sessions_revoke_for_user
from tessera.crypto import opaque_token_hash, opaque_token_new
from tessera.errors import ValidationFailed, field_error
from tessera.identity.emails import normalize_email
from tessera.identity.mailer import mail_queue, page_link
from tessera.identity.models import User
from tessera.identity.passwords import password_validate
from tessera.identity.services import user_password_set

RESET_TOKEN_TTL = timedelta(hours=1)
RESET_REQUESTS_PER_HOUR = 5


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
