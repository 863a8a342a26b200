"""Refresh-token rotation: a spent token that comes back revokes its whole session."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Least
from django.utils import timezone

from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.errors import (
    RefreshTokenInvalid,
)
from tessera.authn.flows.mfa_session import session_policy_gap
from tessera.authn.models import RefreshToken, Session
from tessera.authn.session_state import state_invalidate_session
from tessera.authn.sessions import IssuedTokens, _actor_for, _session_end, _tokens_issue
from tessera.crypto import opaque_token_hash
from tessera.tenancy.models import MembershipStatus

# --- refresh tokens -------------------------------------------------------------------------------


def _membership_live(session: Session) -> bool:
    """The session's membership and tenant still active (as read with the token's row)."""
    if session.membership_id is None:
        return True
    membership, tenant = session.membership, session.tenant
    return (
        membership is not None
        and membership.status == MembershipStatus.ACTIVE
        and tenant is not None
        and tenant.is_active
    )


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
