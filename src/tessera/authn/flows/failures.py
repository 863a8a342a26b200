"""A failed sign-in: counted against the account and the address, and audited where it belongs.

Shared by every step that checks a secret: the password (`flows.login`), the MFA code
(`flows.mfa`), and accepting an invitation (`tessera.administration.invitation_accept`).
"""

from __future__ import annotations

from django.db import transaction

from tessera import metrics
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn import lockout
from tessera.identity.models import User
from tessera.tenancy.models import Membership, Tenant

MFA_CODE_REASON = "mfa_code"  # a wrong second factor; any other reason is a wrong password


def _trail_for(user: User | None, tenant: Tenant | None):
    """The trail a failed login is written to: the named tenant's only when the person is known
    there (has a membership, whatever its state); else the platform's — a tenant never learns
    of strangers' accounts (their ids, their state) by being named in a login."""
    if tenant is None or user is None:
        return None
    known = Membership.objects.filter(user_id=user.pk, tenant_id=tenant.pk).exists()
    return tenant.pk if known else None


def login_failure_record(
    *, email: str, user: User | None, tenant: Tenant | None, actor: Actor, reason: str
) -> None:
    """Count a failed sign-in (account and address lockout) and audit it, with the lockout or
    block it caused, in the trail `_trail_for` picks."""
    outcome = lockout.login_failed(email=email, ip=actor.ip)
    metrics.login_attempt("mfa_failed" if reason == MFA_CODE_REASON else "bad_credentials")
    tenant_id = _trail_for(user, tenant)
    user_id = user.pk if user is not None else None
    with transaction.atomic():
        audit_record(
            type=AuditEventType.LOGIN_FAILED,
            actor=actor,
            tenant_id=tenant_id,
            resource_type="user" if user_id else "",
            resource_id=user_id or "",
            changes={"reason": reason},
        )
        if outcome.account_locked:
            audit_record(
                type=AuditEventType.ACCOUNT_LOCKED,
                actor=actor,
                tenant_id=tenant_id,
                resource_type="user" if user_id else "",
                resource_id=user_id or "",
                changes={"scope": "account"},
                risk_score=60,
            )
        if outcome.ip_blocked:
            audit_record(
                type=AuditEventType.SUSPICIOUS_ACTIVITY,
                actor=actor,
                tenant_id=tenant_id,
                changes={"scope": "ip", "reason": "too many failed logins from this address"},
                risk_score=70,
            )
