"""Multi-factor flows: the MFA step of a login and its verification.

    login_password ─→ mfa_login_step(attempt)
        user has a confirmed factor:
          ├─ valid `device_token`, tenant allows trusted devices → passes (session device_trusted)
          └─ otherwise ─→ LoginPending {mfa_required, mfa_token}   (MfaChallenge, 5 min, once)
        no factor, tenant requires one (all members, or members holding a `required_roles` role):
          └─ passes with `mfa_setup_required` → a session limited to setting MFA up
    mfa_verify(mfa_token, code, trust_device) ─→ LoginSuccess (+ device token)
        wrong code, unknown/expired/used token, another client → MfaCodeInvalid (401, one body)
        failures count toward the account lockout (as failed passwords do); 5 per challenge

In a session (`mfa_confirm`, `mfa_disable`, backup codes, the tenant's policy): `flows.mfa_session`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tessera import metrics
from tessera.access.selectors import membership_role_slugs
from tessera.audit.models import ActorType
from tessera.audit.services import Actor
from tessera.authn import lockout
from tessera.authn.devices import device_for_login, device_trust, devices_cleanup
from tessera.authn.errors import TOO_MANY_ATTEMPTS_DETAIL, TooManyAttempts
from tessera.authn.flows.failures import login_failure_record
from tessera.authn.flows.login import (
    STEPS,
    LoginAttempt,
    LoginPending,
    LoginSuccess,
    login_complete,
)
from tessera.authn.mfa_requirements import mfa_required_elsewhere
from tessera.authn.models import AuthMethod, MfaChallenge
from tessera.crypto import opaque_token_hash, opaque_token_new
from tessera.identity import mfa as factors
from tessera.identity.mfa import CODE_INVALID_DETAIL, MfaCodeInvalid
from tessera.identity.models import User
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

CHALLENGE_TTL = timedelta(minutes=5)
MAX_CHALLENGE_FAILURES = 5
MAX_TOKEN_LENGTH = 256
VERIFY_INVALID_DETAIL = "The code is not valid, or this sign-in attempt has ended."
DISABLE_INVALID_DETAIL = "The password or the code is not correct."


@dataclass(frozen=True, slots=True)
class MfaLoginResult:
    success: LoginSuccess
    device_token: str | None = None


# --- the tenant's policy ------------------------------------------------------------------------


def mfa_required_for(*, membership: Membership | None, tenant: Tenant | None) -> bool:
    """Whether the tenant requires this member to use MFA (`settings.mfa.required`)."""
    if membership is None or tenant is None:
        return False
    policy = tenant.policy.mfa
    if policy.required == "all":
        return True
    if policy.required == "roles" and policy.required_roles:
        held = membership_role_slugs(membership_id=membership.pk, now=timezone.now())
        if set(held) & set(policy.required_roles):
            return True
    return mfa_required_elsewhere(membership)


def _trusted_devices_allowed(tenant: Tenant | None) -> bool:
    return tenant is None or tenant.policy.mfa.allow_trusted_devices


# --- the login step -----------------------------------------------------------------------------


def _client_hash(actor: Actor) -> str:
    raw = f"{actor.ip or ''}|{actor.user_agent or ''}"
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _device_passes(attempt: LoginAttempt) -> bool:
    raw = attempt.extra.get("device_token")
    if not raw or not _trusted_devices_allowed(attempt.tenant):
        return False
    device = device_for_login(user=attempt.user, raw=raw)
    if device is None:
        return False
    attempt.auth_method = AuthMethod.TRUSTED_DEVICE
    attempt.mfa_verified_at = device.mfa_verified_at
    attempt.device_trusted = True
    attempt.device_info = {"trusted_device_id": str(device.pk)}
    attempt.audit_changes["trusted_device"] = str(device.pk)
    return True


def mfa_login_step(attempt: LoginAttempt) -> LoginPending | None:
    """The login step registered in `STEPS` (see the module docstring)."""
    if factors.mfa_enabled(user_id=attempt.user.pk):
        if _device_passes(attempt):
            return None
        now = timezone.now()
        raw, digest = opaque_token_new()
        MfaChallenge.objects.create(
            token_hash=digest,
            user_id=attempt.user.pk,
            tenant=attempt.tenant,
            membership=attempt.membership,
            lockout_tenant=attempt.lockout_tenant,
            client_hash=_client_hash(attempt.actor),
            password_verified_at=attempt.password_verified_at,
            password_change_required=attempt.password_change_required,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        )
        metrics.login_attempt("mfa_required")
        return LoginPending(step="mfa", token=raw)
    if mfa_required_for(membership=attempt.membership, tenant=attempt.tenant):
        attempt.mfa_setup_required = True
    return None


def register() -> None:
    """Put the MFA step into the login flow (idempotent)."""
    if mfa_login_step not in STEPS:
        STEPS.append(mfa_login_step)


# --- verification -------------------------------------------------------------------------------


def _challenge_for(token: str, now: datetime) -> MfaChallenge | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return (
        MfaChallenge.objects.select_related("user", "tenant", "membership", "lockout_tenant")
        .filter(
            token_hash=opaque_token_hash(token),
            used_at__isnull=True,
            expires_at__gt=now,
            failures__lt=MAX_CHALLENGE_FAILURES,
        )
        .first()
    )


def _still_allowed(challenge: MfaChallenge) -> bool:
    user = challenge.user
    if not user.is_active or user.is_service_account:
        return False
    membership = challenge.membership
    if membership is None:
        return True
    return (
        membership.status == MembershipStatus.ACTIVE
        and challenge.tenant is not None
        and challenge.tenant.is_active
    )


def _with_user(actor: Actor, user: User, membership: Membership | None) -> Actor:
    return dataclasses.replace(
        actor,
        type=ActorType.USER,
        user_id=user.pk,
        membership_id=membership.pk if membership is not None else None,
    )


def _check_not_blocked(*, email: str, tenant: Tenant | None, ip: str | None) -> None:
    wait = lockout.login_blocked(email=email, tenant=tenant, ip=ip)
    if wait:
        metrics.login_attempt("locked")
        raise TooManyAttempts(TOO_MANY_ATTEMPTS_DETAIL, retry_after=wait)


def mfa_verify(
    *,
    token: str,
    code: str,
    trust_device: bool = False,
    actor: Actor | None = None,
    purpose: str = "api",
) -> MfaLoginResult:
    """Finish a login with its `mfa_token` and a TOTP or backup code (see the module docstring).

    `purpose="admin"`: the admin site's MFA page (its token never leaves the server-side browser
    session); no trusted device, a session without tokens. `purpose="web"`: the hosted sign-in
    page (tessera.web): a session without tokens (the browser holds its cookie)."""
    trust_device = trust_device and purpose != "admin"
    actor = actor or Actor.system()
    now = timezone.now()
    challenge = _challenge_for(token, now)
    if challenge is None or challenge.client_hash != _client_hash(actor):
        raise MfaCodeInvalid(VERIFY_INVALID_DETAIL)
    user = challenge.user
    _check_not_blocked(email=user.email, tenant=challenge.lockout_tenant, ip=actor.ip)
    actor = _with_user(actor, user, challenge.membership)
    if not _still_allowed(challenge):
        raise MfaCodeInvalid(VERIFY_INVALID_DETAIL)
    try:
        method = factors.mfa_code_verify(
            user=user, code=code, actor=actor, tenant_id=challenge.tenant_id, now=now
        )
    except MfaCodeInvalid:
        MfaChallenge.objects.filter(pk=challenge.pk).update(failures=F("failures") + 1)
        login_failure_record(
            email=user.email,
            user=user,
            tenant=challenge.lockout_tenant,
            actor=actor,
            reason="mfa_code",
        )
        raise MfaCodeInvalid(VERIFY_INVALID_DETAIL) from None
    if not MfaChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(used_at=now):
        raise MfaCodeInvalid(VERIFY_INVALID_DETAIL)  # a concurrent verify of the same token won
    lockout.login_succeeded(email=user.email, tenant=challenge.lockout_tenant)
    attempt = LoginAttempt(
        user=user,
        tenant=challenge.tenant,
        membership=challenge.membership,
        actor=actor,
        password_verified_at=challenge.password_verified_at,
        password_change_required=challenge.password_change_required,
        auth_method=AuthMethod.PASSWORD_MFA,
        mfa_verified_at=now,
        lockout_tenant=challenge.lockout_tenant,
        audit_changes={"mfa": method},
        purpose=purpose,
    )
    device_token = None
    with transaction.atomic():
        if trust_device and _trusted_devices_allowed(challenge.tenant):
            device_token, device = device_trust(
                user=user, actor=actor, mfa_verified_at=now, now=now
            )
            attempt.device_trusted = True
            attempt.device_info = {"trusted_device_id": str(device.pk)}
            attempt.audit_changes["trusted_device"] = str(device.pk)
        success = login_complete(attempt)
    return MfaLoginResult(success=success, device_token=device_token)


def challenge_allows_trusted_device(*, token: str) -> bool:
    """Whether the sign-in behind this `mfa_token` may offer "trust this device" (its tenant's
    policy; a sign-in bound to no tenant may). False for an unknown or spent token."""
    challenge = _challenge_for(token, timezone.now())
    return challenge is not None and _trusted_devices_allowed(challenge.tenant)


def mfa_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Delete spent and expired MFA challenges, and long-dead trusted devices (tessera cleanup)."""

    now = now or timezone.now()
    challenges, _ = MfaChallenge.objects.filter(
        Q(expires_at__lt=now) | Q(used_at__isnull=False)
    ).delete()
    return {"mfa_challenges": challenges, "trusted_devices": devices_cleanup(now=now)}


__all__ = [
    "CODE_INVALID_DETAIL",
    "MfaLoginResult",
    "challenge_allows_trusted_device",
    "mfa_cleanup",
    "mfa_login_step",
    "mfa_required_for",
    "mfa_verify",
    "register",
]
