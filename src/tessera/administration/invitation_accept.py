"""Accepting an invitation: the person consents, proves the address, and signs in to the tenant.

    invitation_accept(token, password, signed_in_user_id)    POST /api/v1/auth/invitations/accept
      unknown token ─────────────→ 400 invalid_token          (all: nothing changed)
      revoked / membership gone ─→ 400 invitation_revoked
      already accepted ──────────→ 400 invitation_used       (also the loser of two at once)
      expired ───────────────────→ 400 invitation_expired
      another person signed in ──→ 403 invitation_for_another_person
      no `password` ─────────────→ 422 `password`
      identity never verified: `password` is a NEW password (the tenant policy applies); every
        earlier session, refresh token, trusted device, API key and second factor of the identity
        ends, and the identity becomes verified and owned (identity_take_over)
      identity verified: `password` is the person's current one (checked under the lockout; a
        wrong one is the login's 401, nothing changed)
      then: membership `active`, INVITATION_ACCEPTED, and the login flow's steps (MFA) and
        session for that tenant → LoginSuccess, or LoginPending {mfa_required, mfa_token}

The invitation row is locked and marked accepted with a conditional UPDATE in one transaction
with everything above, so of two concurrent acceptances exactly one wins.
"""

from __future__ import annotations

import dataclasses

from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.utils import timezone

from tessera.audit.models import ActorType, AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn import lockout
from tessera.authn.errors import (
    INVALID_CREDENTIALS_DETAIL,
    TOO_MANY_ATTEMPTS_DETAIL,
    InvalidCredentials,
    TooManyAttempts,
)
from tessera.authn.flows.failures import login_failure_record
from tessera.authn.flows.login import STEPS, LoginAttempt, login_complete
from tessera.authn.verification import identity_take_over, password_required_error
from tessera.crypto import opaque_token_hash
from tessera.errors import InvalidInput, PermissionDenied, ValidationFailed, field_error
from tessera.identity.passwords import password_expired, password_validate, policy_for_user
from tessera.tenancy.models import Invitation, Membership, MembershipStatus
from tessera.tenancy.services import membership_set_status

MAX_TOKEN_LENGTH = 256


class InvitationTokenInvalid(InvalidInput):
    code = "invalid_token"


class InvitationExpired(InvalidInput):
    code = "invitation_expired"


class InvitationUsed(InvalidInput):
    code = "invitation_used"


class InvitationRevoked(InvalidInput):
    code = "invitation_revoked"


class InvitationForAnotherPerson(PermissionDenied):
    code = "invitation_for_another_person"


def _locked(token: str, now) -> tuple[Invitation, Membership]:
    """The live invitation of `token`, locked, with its membership; refused otherwise."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvitationTokenInvalid("The invitation link is not valid")
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("tenant", "membership", "membership__user")
        .filter(token_hash=opaque_token_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationTokenInvalid("The invitation link is not valid")
    membership = invitation.membership
    if invitation.revoked_at is not None or membership is None:
        raise InvitationRevoked("This invitation was withdrawn")
    if invitation.accepted_at is not None:
        raise InvitationUsed("This invitation was already accepted; sign in instead")
    if invitation.expires_at <= now:
        raise InvitationExpired("This invitation has expired; ask for a new one")
    user = membership.user
    if (
        not invitation.tenant.is_active
        or not user.is_active
        or user.is_service_account
        or user.email != invitation.email
        or membership.status == MembershipStatus.SUSPENDED
    ):
        raise InvitationTokenInvalid("The invitation link is not valid")
    return invitation, membership


def _check_current_password(user, password: str, *, tenant, actor: Actor) -> None:
    """The verified owner's current password, under the login's lockout counters."""

    wait = lockout.login_blocked(email=user.email, tenant=tenant, ip=actor.ip)
    if wait:
        raise TooManyAttempts(TOO_MANY_ATTEMPTS_DETAIL, retry_after=wait)
    if not user.has_usable_password() or not check_password(password, user.password):
        login_failure_record(
            email=user.email, user=user, tenant=tenant, actor=actor, reason="bad_credentials"
        )
        raise InvalidCredentials(INVALID_CREDENTIALS_DETAIL)


@dataclasses.dataclass(frozen=True, slots=True)
class InvitationPreview:
    """What the acceptance page shows before anything changes."""

    tenant_name: str
    email: str
    new_password_needed: bool  # the account was never verified: accepting sets its password


def invitation_preview(*, token: str) -> InvitationPreview:
    """The invitation a link names, checked as `invitation_accept` checks it (the same 400s);
    nothing changes."""
    with transaction.atomic():
        invitation, membership = _locked(token, timezone.now())
        return InvitationPreview(
            tenant_name=invitation.tenant.name,
            email=invitation.email,
            new_password_needed=membership.user.email_verified_at is None,
        )


def invitation_accept(
    *,
    token: str,
    password: str | None,
    signed_in_user_id=None,
    actor: Actor | None = None,
    purpose: str = "api",
):
    """Accept (see the module docstring); returns the login flow's LoginSuccess or LoginPending
    (`purpose` as in login_password: "web" signs in to the hosted pages, without tokens)."""

    actor = actor or Actor.system()
    if password is not None and not isinstance(password, str):
        raise ValidationFailed("Invalid password", errors=[field_error("password", "A string.")])
    now = timezone.now()
    # a wrong current password is recorded (lockout, LOGIN_FAILED) outside the rolled-back work
    with transaction.atomic():
        invitation, membership = _locked(token, now)
        tenant = invitation.tenant
        user = membership.user
        if signed_in_user_id is not None and str(signed_in_user_id) != str(user.pk):
            raise InvitationForAnotherPerson(
                "This invitation is for someone else: sign out first, or open it as that person"
            )
        take_over = user.email_verified_at is None
        if not password:
            raise password_required_error() if take_over else _password_needed()
    actor = dataclasses.replace(
        actor, type=ActorType.USER, user_id=user.pk, membership_id=membership.pk
    )
    if take_over:
        password_validate(password, user=user, tenant=tenant, field="password")
        if user.has_usable_password() and check_password(password, user.password):
            raise ValidationFailed(
                "Choose a password of your own",
                code="password_policy",
                errors=[field_error("password", "Not the password set before.", "password_reused")],
            )
    else:
        _check_current_password(user, password, tenant=tenant, actor=actor)
    with transaction.atomic():
        invitation, membership = _locked(token, now)  # again, locked: the state may have moved
        tenant = invitation.tenant
        user = membership.user
        if (user.email_verified_at is None) != take_over:
            raise InvitationUsed("This invitation was already accepted; sign in instead")
        if not Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(accepted_at=now):
            raise InvitationUsed("This invitation was already accepted; sign in instead")
        changes: dict = {"email": invitation.email, "identity_verified_now": take_over}
        before = membership.status
        if take_over:
            # the person's other tenants see only that their sessions ended
            identity_take_over(
                user=user, password=password, reason="identity_verified", actor=actor, now=now
            )
            user.refresh_from_db()
        if before != MembershipStatus.ACTIVE:
            membership_set_status(membership=membership, status=MembershipStatus.ACTIVE)
            membership.refresh_from_db()
        changes["membership_status"] = {"before": before, "after": MembershipStatus.ACTIVE}
        audit_record(
            type=AuditEventType.INVITATION_ACCEPTED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="invitation",
            resource_id=invitation.pk,
            changes=changes,
        )
        policy = policy_for_user(user, tenant=tenant)
        attempt = LoginAttempt(
            user=user,
            tenant=tenant,
            membership=membership,
            actor=actor,
            password_verified_at=now,
            password_change_required=user.must_change_password
            or password_expired(user, policy=policy, now=now),
            lockout_tenant=tenant,
            audit_changes={"via": "invitation"},
            purpose=purpose,
        )
        for step in STEPS:
            pending = step(attempt)
            if pending is not None:
                return pending
        return login_complete(attempt)


def _password_needed() -> ValidationFailed:
    return ValidationFailed(
        "Enter your password to accept",
        errors=[field_error("password", "Your current password.", "required")],
    )
