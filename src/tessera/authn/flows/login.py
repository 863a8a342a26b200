"""The password login flow: credentials → extra steps (MFA) → a session with its tokens.

    login_password()                       the first step, for POST /api/v1/auth/login
      ├─ IP blocked / account locked ─────→ TooManyAttempts (429, one body for every account)
      ├─ wrong credentials (any reason) ──→ InvalidCredentials (401, one body, one hash's time)
      ├─ not a member of the named tenant → NotAMember (403)
      ├─ a step in STEPS answers ─────────→ LoginPending (e.g. {mfa_required, mfa_token})
      └─ login_complete() ────────────────→ LoginSuccess (session, access + refresh tokens)

Unknown email, wrong password, inactive user, service account, user without a password: the same
401 after verifying a password hash (a dummy one when there is no real one), so neither the answer
nor its time tells them apart. Locked and unknown emails answer the same 429, since the failure
counters are kept on the submitted email whether or not an account has it.

Extension point for the MFA issue: a step is `(LoginAttempt) -> LoginPending | None`, appended to
`STEPS`. Returning a LoginPending ends this request there (the step keeps what it needs, e.g. in a
signed `mfa_token`); the step's own endpoint later calls `login_complete(attempt, ...)` with
`auth_method=AuthMethod.PASSWORD_MFA` and `mfa_verified_at`. A step may instead set the attempt's
`auth_method`, `mfa_verified_at`, `device_trusted` or `mfa_setup_required` and return None.
The MFA step (tessera.authn.flows.mfa) is registered at the end of this module. A correct password
clears the account's failure counters only when the login completes: failed MFA codes count toward
the same lockout as failed passwords.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeGuard

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from tessera import metrics
from tessera.audit.models import ActorType, AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn import lockout
from tessera.authn.errors import (
    INVALID_CREDENTIALS_DETAIL,
    TOO_MANY_ATTEMPTS_DETAIL,
    InvalidCredentials,
    TooManyAttempts,
)
from tessera.authn.flows.admin_door import admin_allowed, admin_refuse
from tessera.authn.flows.failures import login_failure_record
from tessera.authn.models import AuthMethod, Session
from tessera.authn.selectors import memberships_with_roles
from tessera.authn.sessions import (
    IssuedTokens,
    admin_session_policy,
    session_create,
    session_tokens_issue,
)
from tessera.errors import TesseraError, ValidationFailed
from tessera.identity.emails import normalize_email
from tessera.identity.models import User
from tessera.identity.password_upgrade import password_verify_and_upgrade
from tessera.identity.passwords import password_expired, policy_for_user
from tessera.tenancy.errors import NotAMember
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.selectors import memberships_active, tenant_find


@dataclass(slots=True)
class LoginAttempt:
    """A login whose password has been verified, on its way to a session."""

    user: User
    tenant: Tenant | None
    membership: Membership | None
    actor: Actor
    password_verified_at: datetime
    password_change_required: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    auth_method: str = AuthMethod.PASSWORD
    mfa_verified_at: datetime | None = None
    mfa_setup_required: bool = False
    device_trusted: bool = False
    device_info: dict[str, Any] = field(default_factory=dict)
    lockout_tenant: Tenant | None = None  # the tenant named at login
    audit_changes: dict[str, Any] = field(default_factory=dict)
    # "api": tokens; "web": a session for the hosted pages' cookie (tessera.web, no tokens);
    # "admin": a session for the admin site (no tokens)
    purpose: str = "api"
    # the person's active memberships in active tenants, as read at the password step
    memberships: list[Membership] | None = None


@dataclass(frozen=True, slots=True)
class LoginSuccess:
    tokens: IssuedTokens | None  # None for an admin-site session (it has no tokens)
    user: User
    tenant: Tenant | None
    membership: Membership | None
    password_change_required: bool
    mfa_setup_required: bool = False
    session: Session | None = None
    # `LoginAttempt.memberships`, each with its role slugs, when the login read them
    memberships_with_roles: list[tuple[Membership, list[str]]] | None = None


@dataclass(frozen=True, slots=True)
class LoginPending:
    """The login needs one more step (`step`, e.g. "mfa") before a session is created."""

    step: str
    token: str
    data: dict[str, Any] = field(default_factory=dict)


LoginStep = Callable[[LoginAttempt], LoginPending | None]

STEPS: list[LoginStep] = []
"""Steps between a verified password and the session, in order (the MFA challenge goes here)."""

EmailGate = Callable[[str], "TesseraError | None"]

EMAIL_GATES: list[EmailGate] = []
"""Checks of the submitted (normalized) email before any password is verified; a gate answers
the error that refuses a password login for that address (e.g. `sso_required`: the address's
domain is verified by a tenant that requires single sign-on), or None. Filled at start-up by
higher layers (tessera.sso), so this module imports none of them. The answer depends on the
address's domain only, never on whether an account exists: it tells nothing about accounts."""


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random password with the current hasher: verifying against it costs the same."""
    return make_password(secrets.token_urlsafe(24))


def _normalized(email: str) -> str:
    try:
        return normalize_email(email)
    except ValidationFailed:
        return (email or "").strip().lower()[:254]


def _verify(user: User | None, password: str) -> TypeGuard[User]:
    """Check the password, spending one hash verification whatever the account's state."""
    usable = (
        user is not None
        and user.is_active
        and not user.is_service_account
        and user.has_usable_password()
    )
    if not usable or user is None:
        check_password(password, _dummy_hash())
        return False
    return password_verify_and_upgrade(user, password)  # outdated parameters: re-encoded


def _membership_for(memberships: list[Membership], tenant: Tenant | None, hint: str | None):
    """(tenant, membership) the session is bound to, among the person's active memberships in
    active tenants; 403 when a named tenant is not one of theirs. Unnamed, the only one (none
    when there are several: the person picks later)."""
    if hint:
        membership = None
        if tenant is not None:
            membership = next((m for m in memberships if m.tenant_id == tenant.pk), None)
        if membership is None:
            raise NotAMember("You are not an active member of this tenant")
        return membership.tenant, membership
    if len(memberships) == 1:
        return memberships[0].tenant, memberships[0]
    return None, None


def login_password(
    *,
    email: str,
    password: str,
    tenant: str | None = None,
    actor: Actor | None = None,
    device_token: str | None = None,
    purpose: str = "api",
) -> LoginSuccess | LoginPending:
    """The first step of a login. See the module docstring for the answers.

    `device_token`: a trusted device's token (tessera.authn.devices), which lets the MFA step pass.
    `purpose="admin"`: the admin site's login (tessera.admin_site) — platform administrators only
    (others get the one 401), bound to no tenant, the platform's session limits, no trusted-device
    skip, a second factor required when `settings.ADMIN_REQUIRE_MFA`; the session has no tokens.
    """
    if purpose == "admin":
        tenant, device_token = None, None
    actor = actor or Actor.system()
    normalized = _normalized(email)
    named = tenant_find(hint=tenant)
    user = User.objects.filter(email=normalized).first() if normalized else None
    # read once: the lockout rule, the membership the session binds and the password policy
    # come from these rows, and so does the answer's list of memberships
    memberships = memberships_active(user_id=user.pk) if user is not None else []
    lockout_rule = lockout.LockoutRule.strictest(m.tenant for m in memberships)
    wait = lockout.login_blocked(email=normalized, ip=actor.ip, rule=lockout_rule)
    if wait:
        metrics.login_attempt("locked")
        raise TooManyAttempts(TOO_MANY_ATTEMPTS_DETAIL, retry_after=wait)
    if purpose == "api":
        _gates_check(normalized, actor)
    if not _verify(user, password or ""):
        reason = "bad_credentials"
        if user is not None and not user.is_active:
            reason = "inactive_user"
        elif user is not None and user.is_service_account:
            reason = "service_account"
        login_failure_record(email=normalized, user=user, tenant=named, actor=actor, reason=reason)
        raise InvalidCredentials(INVALID_CREDENTIALS_DETAIL)
    actor = _with_user(actor, user)
    if purpose == "admin":
        admin_allowed(user, actor)
    try:
        bound_tenant, membership = (
            (None, None) if purpose == "admin" else _membership_for(memberships, named, tenant)
        )
    except NotAMember:
        with transaction.atomic():
            audit_record(
                type=AuditEventType.LOGIN_FAILED,
                actor=actor,
                tenant_id=None,  # not a member: the platform's trail, never the named tenant's
                resource_type="user",
                resource_id=user.pk,
                changes={"reason": "not_a_member"},
            )
        raise
    now = timezone.now()
    policy = policy_for_user(user, tenant=bound_tenant, member_of=[m.tenant for m in memberships])
    attempt = LoginAttempt(
        user=user,
        tenant=bound_tenant,
        membership=membership,
        actor=_with_user(actor, user, membership),
        password_verified_at=now,
        password_change_required=user.must_change_password
        or password_expired(user, policy=policy, now=now),
        extra={"device_token": device_token} if device_token else {},
        lockout_tenant=named,
        purpose=purpose,
        memberships=memberships,
    )
    if purpose == "admin" and attempt.password_change_required:
        admin_refuse(user, actor, "password_change_required")
    for step in STEPS:
        pending = step(attempt)
        if pending is not None:
            return pending
    lockout.login_succeeded(email=normalized, rule=lockout_rule)
    return login_complete(attempt)


def _gates_check(email: str, actor: Actor) -> None:
    for gate in EMAIL_GATES:
        refusal = gate(email)
        if refusal is not None:
            with transaction.atomic():
                audit_record(
                    type=AuditEventType.LOGIN_FAILED,
                    actor=actor,
                    tenant_id=None,
                    changes={"reason": refusal.code},
                )
            raise refusal


def _with_user(actor: Actor, user: User, membership: Membership | None = None) -> Actor:
    return dataclasses.replace(
        actor,
        type=ActorType.USER,
        user_id=user.pk,
        membership_id=membership.pk if membership is not None else None,
    )


def login_complete(
    attempt: LoginAttempt,
    *,
    auth_method: str | None = None,
    mfa_verified_at: datetime | None = None,
    device_info: dict | None = None,
) -> LoginSuccess:
    """Create the session and its tokens, and record the login.

    Unset arguments come from the attempt (what its steps found).
    """
    user = attempt.user
    auth_method = auth_method or attempt.auth_method
    if attempt.purpose == "admin":
        attempt.audit_changes.setdefault("door", "admin")
        attempt.audit_changes.setdefault("factors", auth_method)
        auth_method = AuthMethod.ADMIN
    mfa_verified_at = mfa_verified_at or attempt.mfa_verified_at
    device_info = device_info if device_info is not None else attempt.device_info
    now = timezone.now()
    with_roles = None
    with transaction.atomic():
        session = session_create(
            user=user,
            tenant=attempt.tenant,
            membership=attempt.membership,
            ip=attempt.actor.ip,
            user_agent=attempt.actor.user_agent,
            auth_method=auth_method,
            password_verified_at=attempt.password_verified_at,
            mfa_verified_at=mfa_verified_at,
            password_change_required=attempt.password_change_required,
            device_info=device_info,
            actor=attempt.actor,
            now=now,
            policy=admin_session_policy() if attempt.purpose == "admin" else None,
        )
        if attempt.mfa_setup_required or attempt.device_trusted:
            session.mfa_setup_required = attempt.mfa_setup_required
            session.device_trusted = attempt.device_trusted
            Session.objects.filter(pk=session.pk).update(
                mfa_setup_required=session.mfa_setup_required,
                device_trusted=session.device_trusted,
            )
        tokens = None
        if attempt.purpose == "api":
            roles = None  # None: the token issue reads them
            if attempt.memberships is not None:  # the answer lists them, with their roles
                with_roles = memberships_with_roles(
                    user_id=user.pk, now=now, memberships=attempt.memberships
                )
                roles = next((r for m, r in with_roles if m.pk == session.membership_id), None)
            tokens = session_tokens_issue(session=session, now=now, roles=roles)
        User.objects.filter(pk=user.pk).update(last_login=now)
        audit_record(
            type=AuditEventType.LOGIN,
            actor=attempt.actor,
            tenant_id=attempt.tenant.pk if attempt.tenant is not None else None,
            resource_type="session",
            resource_id=session.pk,
            changes={
                "method": auth_method,
                "password_change_required": attempt.password_change_required,
                **({"mfa_setup_required": True} if attempt.mfa_setup_required else {}),
                **attempt.audit_changes,
            },
        )
    sso = auth_method in (AuthMethod.SSO, AuthMethod.SSO_MFA)
    metrics.login_attempt("sso_success" if sso else "success")
    return LoginSuccess(
        tokens=tokens,
        user=user,
        tenant=attempt.tenant,
        membership=attempt.membership,
        password_change_required=attempt.password_change_required,
        mfa_setup_required=attempt.mfa_setup_required,
        session=session,
        memberships_with_roles=with_roles,
    )
