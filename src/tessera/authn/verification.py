"""Proving an email address, and what proving it changes: the identity becomes the person's.

    email_verify_request(email)          POST /api/v1/auth/email/verify → 202 whatever the address
      known, active person ──→ a single-use link (SHA-256 stored, 24 h), mailed after commit
      unknown / inactive ────→ the same work (token, rendering), nothing stored or sent
    email_verify_confirm(token, password?)   POST …/verify/confirm → 204; 400 `invalid_token`
      identity managed by a tenant ──→ `password` required: the tenant may know the old one, so
        it is replaced and every earlier credential ends (identity_take_over)
      otherwise ─────────────────────→ verified; the identity is owned (nobody manages it)

`identity_take_over` is shared with accepting an invitation
(tessera.administration.invitation_accept).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from limits import RateLimitItemPerHour
from limits.strategies import MovingWindowRateLimiter

from tessera.audit.models import ActorType, AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.lockout import limits_storage
from tessera.authn.revocation import credentials_revoke_for_user
from tessera.crypto import opaque_token_hash, opaque_token_new
from tessera.errors import InvalidInput, ValidationFailed, field_error
from tessera.identity.emails import normalize_email
from tessera.identity.mailer import mail_queue, page_link
from tessera.identity.models import BackupCode, EmailVerificationToken, TotpFactor, User
from tessera.identity.passwords import password_validate
from tessera.identity.services import user_password_set

VERIFY_TOKEN_TTL = timedelta(hours=24)
VERIFY_REQUESTS_PER_HOUR = 5
MAX_TOKEN_LENGTH = 256


class VerificationTokenInvalid(InvalidInput):
    code = "invalid_token"


def _allowed(email: str) -> bool:
    """Count a verification request for this address (the reset requests' `limits` storage)."""

    digest = hashlib.sha256(email.encode()).hexdigest()
    return MovingWindowRateLimiter(limits_storage()).hit(
        RateLimitItemPerHour(VERIFY_REQUESTS_PER_HOUR), "tessera-verify-requests", digest
    )


def email_verify_request(*, email: str, actor: Actor | None = None) -> None:
    """Mail a verification link when the address belongs to an active person (see the module
    docstring); the caller answers 202 either way."""

    try:
        normalized = normalize_email(email)
    except ValidationFailed:
        return
    if not _allowed(normalized):
        return
    user = User.objects.filter(email=normalized, is_active=True, is_service_account=False).first()
    now = timezone.now()
    raw, digest = opaque_token_new()
    context = {"expires_at": now + VERIFY_TOKEN_TTL}
    if user is None:
        mail_queue("verify_email", to=None, context=context, link=page_link("verify_email", raw))
        return
    with transaction.atomic():
        EmailVerificationToken.objects.create(
            user=user,
            email=user.email,
            token_hash=digest,
            created_at=now,
            expires_at=now + VERIFY_TOKEN_TTL,
        )
        mail_queue(
            "verify_email", to=user.email, context=context, link=page_link("verify_email", raw)
        )


def identity_take_over(
    *, user: User, password: str, reason: str, actor: Actor | None, now: datetime
) -> dict[str, Any]:
    """The person proves the address of an identity someone else may have held: a new password
    (already validated), every earlier session, refresh token, trusted device and API key ended,
    second factors removed, and the identity verified and owned. Inside the caller's transaction.
    """

    revoked = credentials_revoke_for_user(user=user, reason=reason, actor=actor)
    factors, _ = TotpFactor.objects.filter(user_id=user.pk).delete()
    BackupCode.objects.filter(user_id=user.pk).delete()
    user_password_set(user=user, password=password, validate=False)
    identity_mark_verified(user=user, now=now)
    return {**revoked, "mfa_removed": bool(factors)}


def identity_mark_verified(*, user: User, now: datetime) -> None:
    """The address is proved: the identity is the person's own (no tenant manages it)."""
    User.objects.filter(pk=user.pk).update(
        email_verified_at=now, managed_by_tenant=None, updated_at=now
    )
    user.email_verified_at, user.managed_by_tenant_id = now, None


def password_required_error() -> ValidationFailed:
    return ValidationFailed(
        "Choose a password: it replaces any password set for this account before",
        errors=[field_error("password", "Required to take over this account.", "required")],
    )


def _live_token(token: str, now: datetime, *, lock: bool) -> EmailVerificationToken:
    """The unspent, unexpired link `token` names, of an active account still at that address."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise VerificationTokenInvalid("The verification link is invalid or has expired")
    query = EmailVerificationToken.objects.select_related("user")
    if lock:
        query = query.select_for_update(of=("self",))
    row = query.filter(token_hash=opaque_token_hash(token)).first()
    user = row.user if row is not None else None
    if (
        row is None
        or user is None
        or row.used_at is not None
        or row.expires_at <= now
        or not user.is_active
        or row.email != user.email
    ):
        raise VerificationTokenInvalid("The verification link is invalid or has expired")
    return row


def email_verification_preview(*, token: str) -> bool:
    """Whether spending this link needs a new password (a tenant manages the account); raises
    VerificationTokenInvalid as `email_verify_confirm` would. Nothing changes."""
    return _live_token(token, timezone.now(), lock=False).user.managed_by_tenant_id is not None


def email_verify_confirm(
    *, token: str, password: str | None = None, actor: Actor | None = None
) -> User:
    """Spend a verification link (see the module docstring); nothing changes on any error."""

    now = timezone.now()
    with transaction.atomic():
        row = _live_token(token, now, lock=True)
        user = row.user
        managed_by = user.managed_by_tenant_id
        changes: dict[str, Any] = {"email": user.email}
        if managed_by is not None:
            if not password:
                raise password_required_error()
            password_validate(password, user=user, field="password")
        EmailVerificationToken.objects.filter(pk=row.pk).update(used_at=now)
        EmailVerificationToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        if managed_by is not None:
            changes["taken_over"] = identity_take_over(
                user=user, password=password or "", reason="email_verified", actor=actor, now=now
            )
            changes["managed_by_tenant"] = str(managed_by)
        else:
            identity_mark_verified(user=user, now=now)
        audit_record(
            type=AuditEventType.EMAIL_VERIFIED,
            actor=_as_user(actor, user),
            tenant_id=managed_by,  # the tenant that stops managing it sees it; else the platform
            resource_type="user",
            resource_id=user.pk,
            changes=changes,
        )
    return user


def _as_user(actor: Actor | None, user: User) -> Actor:

    actor = actor or Actor.system()
    if actor.user_id is None:
        actor = dataclasses.replace(actor, type=ActorType.USER, user_id=user.pk)
    return actor


def verification_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Delete email-verification links that were used or expired (`tessera cleanup`)."""

    now = now or timezone.now()
    deleted, _ = EmailVerificationToken.objects.filter(
        Q(expires_at__lt=now) | Q(used_at__isnull=False)
    ).delete()
    return {"email_verification_tokens": deleted}
