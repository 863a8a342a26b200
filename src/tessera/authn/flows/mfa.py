"""Multi-factor flows: the MFA step of a login, its verification, and the in-session changes.

    login_password ─→ mfa_login_step(attempt)
        user has a confirmed factor:
          ├─ valid `device_token`, tenant allows trusted devices → passes (session device_trusted)
          └─ otherwise ─→ LoginPending {mfa_required, mfa_token}   (MfaChallenge, 5 min, once)
        no factor, tenant requires one (all members, or members holding a `required_roles` role):
          └─ passes with `mfa_setup_required` → a session limited to setting MFA up
    mfa_verify(mfa_token, code, trust_device) ─→ LoginSuccess (+ device token)
        wrong code, unknown/expired/used token, another client → MfaCodeInvalid (401, one body)
        failures count toward the account lockout (as failed passwords do); 5 per challenge

In a session: `mfa_confirm` (enrolment done: the session is no longer limited and counts as
MFA-verified now; the person's other sessions end), `mfa_disable` (password and a current code;
trusted devices revoked, the other sessions end),
`backup_codes_regenerate_checked` (a current code). Codes are checked under the account lockout.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tessera.access.versions import state_invalidate_session
from tessera.audit.models import ActorType
from tessera.audit.services import Actor
from tessera.authn import lockout
from tessera.authn.devices import device_for_login, device_trust, devices_revoke_for_user
from tessera.authn.errors import TOO_MANY_ATTEMPTS_DETAIL, TooManyAttempts
from tessera.authn.flows.login import (
    STEPS,
    LoginAttempt,
    LoginPending,
    LoginSuccess,
    _failed,
    login_complete,
)
from tessera.authn.models import AuthMethod, MfaChallenge, Session
from tessera.authn.sessions import sessions_revoke_for_user
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
        from tessera.authn.selectors import membership_role_slugs

        held = membership_role_slugs(membership_id=membership.pk, now=timezone.now())
        return bool(set(held) & set(policy.required_roles))
    return False


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
    session); no trusted device, a session without tokens."""
    trust_device = trust_device and purpose == "api"
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
        _failed(
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


# --- in a session -------------------------------------------------------------------------------


def _code_checked(*, user: User, code: str, actor: Actor, tenant_id, reason: str) -> str:
    """`mfa_code_verify` under the account lockout: 429 while locked; a failure counts."""
    _check_not_blocked(email=user.email, tenant=None, ip=actor.ip)
    try:
        return factors.mfa_code_verify(user=user, code=code, actor=actor, tenant_id=tenant_id)
    except MfaCodeInvalid:
        _failed(email=user.email, user=user, tenant=None, actor=actor, reason=reason)
        raise


def _session_update(session_id, **fields) -> None:
    row = Session.objects.filter(pk=session_id).values_list("tenant_id", flat=True).first()
    Session.objects.filter(pk=session_id).update(**fields)
    state_invalidate_session(tenant_id=row, session_id=session_id)


def mfa_confirm(
    *, user: User, code: str, session_id=None, actor: Actor | None = None, tenant_id=None
) -> list[str]:
    """Activate the pending TOTP factor; the current session counts as MFA-verified from now on
    (and is no longer limited to the setup). Returns the ten backup codes."""
    now = timezone.now()
    with transaction.atomic():
        codes = factors.totp_confirm(
            user=user, code=code, actor=actor, tenant_id=tenant_id, now=now
        )
        if session_id is not None:
            _session_update(session_id, mfa_setup_required=False, mfa_verified_at=now)
        # the sessions that began without this factor end (ASVS 7.4.3); this one goes on
        sessions_revoke_for_user(
            user=user, reason="mfa_enabled", actor=actor, except_session_id=session_id
        )
    return codes


def mfa_disable(
    *,
    user: User,
    password: str,
    code: str,
    actor: Actor,
    session_id=None,
    membership: Membership | None = None,
    tenant: Tenant | None = None,
) -> None:
    """Turn MFA off with the password and a current code (one 401 for either being wrong).

    The user's trusted devices are revoked. When the current tenant requires MFA of this member,
    the current session is limited to setting it up again.
    """
    _check_not_blocked(email=user.email, tenant=None, ip=actor.ip)
    if not factors.mfa_enabled(user_id=user.pk):
        raise factors.MfaNotEnabled("Multi-factor authentication is not enabled")
    if not user.has_usable_password() or not user.check_password(password or ""):
        _failed(email=user.email, user=user, tenant=None, actor=actor, reason="mfa_disable")
        raise MfaCodeInvalid(DISABLE_INVALID_DETAIL)
    try:
        _code_checked(
            user=user,
            code=code,
            actor=actor,
            tenant_id=tenant.pk if tenant else None,
            reason="mfa_disable",
        )
    except MfaCodeInvalid:
        raise MfaCodeInvalid(DISABLE_INVALID_DETAIL) from None
    with transaction.atomic():
        factors.mfa_disable(user=user, actor=actor, tenant_id=tenant.pk if tenant else None)
        devices_revoke_for_user(user_id=user.pk)
        sessions_revoke_for_user(  # ASVS 7.4.3: every other session ends with the factor
            user=user, reason="mfa_disabled", actor=actor, except_session_id=session_id
        )
        if session_id is not None and mfa_required_for(membership=membership, tenant=tenant):
            _session_update(
                session_id, mfa_setup_required=True, mfa_verified_at=None, device_trusted=False
            )


def backup_codes_regenerate_checked(
    *, user: User, code: str, actor: Actor, tenant_id=None
) -> list[str]:
    """Ten new backup codes, after a current TOTP code (or an unused backup code)."""
    if not factors.mfa_enabled(user_id=user.pk):
        raise factors.MfaNotEnabled("Multi-factor authentication is not enabled")
    _code_checked(user=user, code=code, actor=actor, tenant_id=tenant_id, reason="backup_codes")
    return factors.backup_codes_regenerate(user=user, actor=actor, tenant_id=tenant_id)


def session_policy_gap(
    *, user_id, tenant: Tenant | None, membership, mfa_verified_at, device_trusted: bool
) -> str | None:
    """What `tenant`'s authentication policy still asks of a session bound to it, now:

    "mfa"        the person has a second factor and the session has not passed it (or passed it
                 only through a trusted device the tenant forbids): a code is needed;
    "mfa_setup"  the tenant requires MFA of this member, who has none: set it up first;
    None         nothing.
    """
    if factors.mfa_enabled(user_id=user_id):
        if mfa_verified_at is None or (device_trusted and not _trusted_devices_allowed(tenant)):
            return "mfa"
        return None
    if mfa_required_for(membership=membership, tenant=tenant):
        return "mfa_setup"
    return None


def switch_challenge(
    *, session: Session, tenant: Tenant, membership: Membership, actor: Actor
) -> LoginPending | None:
    """Before a session moves to `tenant`: the MFA step when that tenant's policy asks for a code
    this session has not given (the answer is `{mfa_required, mfa_token}`; `mfa/verify` then
    signs in to `tenant` with a session of its own). None when the switch may go ahead."""
    gap = session_policy_gap(
        user_id=session.user_id,
        tenant=tenant,
        membership=membership,
        mfa_verified_at=session.mfa_verified_at,
        device_trusted=session.device_trusted,
    )
    if gap != "mfa":
        return None
    now = timezone.now()
    raw, digest = opaque_token_new()
    MfaChallenge.objects.create(
        token_hash=digest,
        user_id=session.user_id,
        tenant=tenant,
        membership=membership,
        lockout_tenant=tenant,
        client_hash=_client_hash(actor),
        password_verified_at=session.password_verified_at or session.created_at,
        password_change_required=session.password_change_required,
        created_at=now,
        expires_at=now + CHALLENGE_TTL,
    )
    return LoginPending(step="mfa", token=raw)


def session_apply_mfa_policy(*, session: Session, membership, tenant) -> bool:
    """After a tenant switch: limit the session to MFA setup when the new tenant requires MFA of
    this member and they have none. True when the session was limited."""
    if session.mfa_setup_required or factors.mfa_enabled(user_id=session.user_id):
        return False
    if not mfa_required_for(membership=membership, tenant=tenant):
        return False
    _session_update(session.pk, mfa_setup_required=True)
    session.mfa_setup_required = True
    return True


def mfa_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Delete spent and expired MFA challenges, and long-dead trusted devices (tessera cleanup)."""
    from django.db.models import Q

    from tessera.authn.devices import devices_cleanup

    now = now or timezone.now()
    challenges, _ = MfaChallenge.objects.filter(
        Q(expires_at__lt=now) | Q(used_at__isnull=False)
    ).delete()
    return {"mfa_challenges": challenges, "trusted_devices": devices_cleanup(now=now)}


register()

__all__ = [
    "CODE_INVALID_DETAIL",
    "MfaLoginResult",
    "backup_codes_regenerate_checked",
    "mfa_confirm",
    "mfa_disable",
    "mfa_cleanup",
    "mfa_login_step",
    "mfa_required_for",
    "mfa_verify",
    "register",
    "session_apply_mfa_policy",
    "session_policy_gap",
    "switch_challenge",
]
