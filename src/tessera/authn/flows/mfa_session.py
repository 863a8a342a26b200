"""Multi-factor changes in a session: confirm enrolment, disable, regenerate backup codes; the
tenant's MFA policy applied to a session (and the challenge a tenant switch may need).

`mfa_confirm` (enrolment done: the session is no longer limited and counts as MFA-verified now;
the person's other sessions end), `mfa_disable` (password and a current code; trusted devices
revoked, the other sessions end), `backup_codes_regenerate_checked` (a current code). Codes are
checked under the account lockout."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tessera.audit.services import Actor
from tessera.authn.devices import devices_revoke_for_user
from tessera.authn.flows.failures import login_failure_record
from tessera.authn.flows.login import (
    LoginPending,
)
from tessera.authn.flows.mfa import (
    CHALLENGE_TTL,
    DISABLE_INVALID_DETAIL,
    _check_not_blocked,
    _client_hash,
    _trusted_devices_allowed,
    mfa_required_for,
)
from tessera.authn.models import MfaChallenge, Session
from tessera.authn.session_state import state_invalidate_session
from tessera.authn.sessions import sessions_revoke_for_user
from tessera.crypto import opaque_token_new
from tessera.identity import mfa as factors
from tessera.identity.mfa import MfaCodeInvalid
from tessera.identity.models import User
from tessera.tenancy.models import Membership, Tenant

# --- in a session -------------------------------------------------------------------------------


def _code_checked(*, user: User, code: str, actor: Actor, tenant_id, reason: str) -> str:
    """`mfa_code_verify` under the account lockout: 429 while locked; a failure counts."""
    _check_not_blocked(email=user.email, tenant=None, ip=actor.ip)
    try:
        return factors.mfa_code_verify(user=user, code=code, actor=actor, tenant_id=tenant_id)
    except MfaCodeInvalid:
        login_failure_record(email=user.email, user=user, tenant=None, actor=actor, reason=reason)
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
        login_failure_record(
            email=user.email, user=user, tenant=None, actor=actor, reason="mfa_disable"
        )
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


__all__ = [
    "backup_codes_regenerate_checked",
    "mfa_confirm",
    "mfa_disable",
    "session_apply_mfa_policy",
    "session_policy_gap",
    "switch_challenge",
]
