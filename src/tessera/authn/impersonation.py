"""Audited impersonation for support: a member acts as another member of the same tenant.

`impersonation_start` opens a session *of the target* marked with its impersonator
(`Session.impersonator`, `impersonation_reason`) through the ordinary session and token code
(`session_create`, `session_tokens_issue`): its access tokens carry `act: {"sub": <impersonator>}`
(RFC 8693), refreshes keep it, it appears in the target's session list, and it ends at the
latest `minutes` after its start (default and maximum: the tenant's `impersonation.max_minutes`,
30 unless changed). Every request made with it is audited with both identities (the actor is the
target, `actor_impersonator_id` the person behind). What it may never do is listed in
`tessera.authn.impersonation_limits`.

Refusals (nothing is written):
- 403 `impersonation_disabled` — the tenant has not turned impersonation on; then no one holds
  `user:impersonate`, not even `*:*` (the caller's permission itself is checked by the API guard);
- 403 `impersonation_forbidden` — the caller is itself impersonating, or is an API key;
- 403 `target_outranks_you` — the target's permissions do not lie within the caller's
  (the escalation rule: a manager cannot impersonate an administrator);
- 422 `reason_required` — no reason given; 422 `duration_too_long` — beyond the maximum;
- 409 `impersonate_self` — acting as oneself; 409 `target_inactive` — a suspended member;
- 404 — no such member in this tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tessera import notifications
from tessera.access.escalation import ensure_target_within
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.authn.impersonation_limits import ImpersonationForbidden
from tessera.authn.models import AuthMethod, Session
from tessera.authn.sessions import (
    IssuedTokens,
    session_create,
    session_end_by_id,
    session_tokens_issue,
)
from tessera.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, field_error
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

MAX_REASON = 500


class ImpersonationDisabled(PermissionDenied):
    code = "impersonation_disabled"


class ImpersonateSelf(Conflict):
    code = "impersonate_self"


class TargetInactive(Conflict):
    code = "target_inactive"


class NotImpersonating(Conflict):
    code = "not_impersonating"


@dataclass(frozen=True, slots=True)
class ImpersonationStarted:
    tokens: IssuedTokens
    target: Membership
    ends_at: datetime


def impersonation_ensure_enabled(tenant: Tenant) -> None:
    """403 `impersonation_disabled` unless the tenant turned impersonation on."""
    if not tenant.policy.impersonation.enabled:
        raise ImpersonationDisabled(
            "Impersonation is turned off in this tenant (settings.impersonation.enabled)"
        )


def _clean_reason(reason: object) -> str:
    text = " ".join(str(reason or "").split())
    if not text:
        raise ValidationFailed(
            "A reason is required",
            errors=[field_error("reason", "Say why you act as this member.", "required")],
            code="reason_required",
        )
    if len(text) > MAX_REASON:
        raise ValidationFailed(
            "The reason is too long",
            errors=[field_error("reason", f"At most {MAX_REASON} characters.", "too_long")],
        )
    return text


def _clean_minutes(minutes: int | None, maximum: int) -> int:
    if minutes is None:
        return maximum
    if minutes < 1 or minutes > maximum:
        raise ValidationFailed(
            f"An impersonation lasts 1 to {maximum} minutes in this tenant",
            errors=[field_error("minutes", f"Between 1 and {maximum}.", "duration_too_long")],
            code="duration_too_long",
        )
    return minutes


def impersonation_start(
    *,
    impersonator: Membership,
    target: Membership | None,
    reason: object,
    minutes: int | None = None,
    session_id=None,
    actor: Actor,
) -> ImpersonationStarted:
    """Open an impersonation session of `target` for `impersonator` (see the module for refusals).

    `session_id`: the impersonator's own session, whose MFA time the new session carries; `actor`
    is the request's actor: a person's own session (not an API key, not an impersonation
    session). The caller has checked `user:impersonate` for `impersonator`."""
    tenant = impersonator.tenant
    impersonation_ensure_enabled(tenant)
    if actor.impersonator_id is not None or actor.api_key_id is not None or session_id is None:
        raise ImpersonationForbidden("Only a person's own session may start an impersonation")
    clean_reason = _clean_reason(reason)
    clean_minutes = _clean_minutes(minutes, tenant.policy.impersonation.max_minutes)
    if target is None or target.tenant_id != impersonator.tenant_id:
        raise NotFound("No such user in this tenant")
    if target.pk == impersonator.pk:
        raise ImpersonateSelf("You cannot impersonate yourself")
    if target.status != MembershipStatus.ACTIVE or not target.user.is_active:
        raise TargetInactive("Only an active member can be impersonated")
    now = timezone.now()
    ensure_target_within(impersonator, target, now=now)
    own = Session.objects.filter(pk=session_id).values_list("mfa_verified_at").first()
    with transaction.atomic():
        session = session_create(
            user=target.user,
            tenant=tenant,
            membership=target,
            ip=actor.ip,
            user_agent=actor.user_agent,
            auth_method=AuthMethod.IMPERSONATION,
            mfa_verified_at=own[0] if own else None,
            actor=actor,
            now=now,
            impersonator=impersonator.user,
            impersonation_reason=clean_reason,
            lifetime=timedelta(minutes=clean_minutes),
        )
        tokens = session_tokens_issue(session=session, now=now)
        ends_at = min(session.expires_at, session.absolute_expires_at)
        audit_record(
            type=AuditEventType.IMPERSONATION_STARTED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="session",
            resource_id=session.pk,
            changes={
                "impersonator_id": str(impersonator.user_id),
                "target_id": str(target.user_id),
                "reason": clean_reason,
                "minutes": clean_minutes,
                "ends_at": ends_at.isoformat(),
            },
        )
        notifications.impersonation_changed.publish(
            event="started",
            tenant_id=tenant.pk,
            user_id=target.user_id,
            impersonator_id=impersonator.user_id,
            session_id=session.pk,
            reason=clean_reason,
            ends_at=ends_at,
        )
    return ImpersonationStarted(tokens=tokens, target=target, ends_at=ends_at)


def impersonation_end(*, session_id, actor: Actor) -> Session:
    """End the impersonation session `session_id` (the caller's own, carrying `act`); 409
    `not_impersonating` for any other session."""
    session = Session.objects.filter(pk=session_id, impersonator__isnull=False).first()
    if session is None or actor.impersonator_id is None:
        raise NotImpersonating("This is not an impersonation session")
    now = timezone.now()
    with transaction.atomic():
        ended = session_end_by_id(session.pk, session.tenant_id, now=now, reason="impersonation")
        if ended:
            audit_record(
                type=AuditEventType.IMPERSONATION_ENDED,
                actor=actor,
                tenant_id=session.tenant_id,
                resource_type="session",
                resource_id=session.pk,
                changes={
                    "impersonator_id": str(session.impersonator_id),
                    "target_id": str(session.user_id),
                },
            )
            notifications.impersonation_changed.publish(
                event="ended",
                tenant_id=session.tenant_id,
                user_id=session.user_id,
                impersonator_id=session.impersonator_id,
                session_id=session.pk,
                reason=session.impersonation_reason,
                ends_at=now,
            )
    session.revoked_at = now
    return session
