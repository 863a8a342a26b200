"""Threat detection: rules evaluated on each recorded login and administrative event.

| rule | fires on | when | risk |
| --- | --- | --- | --- |
| `brute_force_account` | LOGIN_FAILED | ≥ 5 failures for one account in 10 minutes | 60 |
| `brute_force_ip` | LOGIN_FAILED | ≥ 20 failures from one IP in 10 minutes (across accounts) | 80 |
| `token_reuse` | TOKEN_REUSE_DETECTED | always (a spent refresh token came back) | 90 |
| `new_device` | LOGIN | no login from this IP and user agent in 90 days | 40 |
| `privilege_escalation_burst` | access changes | ≥ 10 by one actor in 5 minutes | 70 |
| `mass_deprovisioning` | USER_DEACTIVATED, MEMBERSHIP_REMOVED | ≥ 20 by one actor in 10 min | 70 |

(`mass_deprovisioning` counts per person, API key or SCIM credential: a directory suspending or
removing many people at once, or a stolen credential doing it.)

Each firing records a SUSPICIOUS_ACTIVITY event with the risk score (in the same transaction as the
event that triggered it), pushes `security.alert` to the tenant's administrators after commit, and
for login-bound rules stores the score on the session, where the engine's `risk_below` condition
reads it. A rule fires at most once per subject and window, so a burst gives one alert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.db.models.functions import Greatest

from tessera import notifications
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.audit.services import Actor, audit_observe, audit_record
from tessera.authn.models import Session
from tessera.authn.session_state import state_invalidate_session

ACCESS_CHANGES = frozenset(
    {
        AuditEventType.ROLE_CREATED,
        AuditEventType.ROLE_UPDATED,
        AuditEventType.ROLE_ASSIGNED,
        AuditEventType.PERMISSION_CHANGE,
        AuditEventType.GRANT_CREATED,
        AuditEventType.DELEGATION_CREATED,
        AuditEventType.DELEGATION_APPROVED,
        AuditEventType.API_KEY_CREATED,
    }
)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    risk_score: int
    detail: str
    subject: str  # what the rule counted on (deduplication key)
    window: timedelta
    session_id: str | None = None


def _recent(event: AuditEvent, window: timedelta):
    return AuditEvent.objects.filter(chain=event.chain, created_at__gte=event.created_at - window)


def _already_alerted(event: AuditEvent, finding: Finding) -> bool:
    return (
        _recent(event, finding.window)
        .filter(
            type=AuditEventType.SUSPICIOUS_ACTIVITY,
            changes__rule=finding.rule,
            changes__subject=finding.subject,
        )
        .exists()
    )


def _brute_force(event: AuditEvent) -> list[Finding]:
    window = timedelta(minutes=10)
    findings = []
    if event.resource_id:
        failures = _recent(event, window).filter(
            type=AuditEventType.LOGIN_FAILED, resource_id=event.resource_id
        )
        if failures.count() >= 5:
            findings.append(
                Finding(
                    "brute_force_account",
                    60,
                    "many failed logins for one account",
                    f"user:{event.resource_id}",
                    window,
                )
            )
    if event.ip:
        from_ip = AuditEvent.objects.filter(
            type=AuditEventType.LOGIN_FAILED,
            ip=event.ip,
            created_at__gte=event.created_at - window,
        )
        if from_ip.count() >= 20:
            findings.append(
                Finding(
                    "brute_force_ip",
                    80,
                    "many failed logins from one address",
                    f"ip:{event.ip}",
                    window,
                )
            )
    return findings


def _token_reuse(event: AuditEvent) -> list[Finding]:
    return [
        Finding(
            "token_reuse",
            90,
            "a spent refresh token was presented again",
            f"session:{event.resource_id}",
            timedelta(minutes=1),
            event.resource_id,
        )
    ]


def _new_device(event: AuditEvent) -> list[Finding]:
    if not event.actor_user_id or event.resource_type != "session":
        return []
    earlier = AuditEvent.objects.filter(
        type=AuditEventType.LOGIN,
        actor_user_id=event.actor_user_id,
        created_at__gte=event.created_at - timedelta(days=90),
        created_at__lt=event.created_at,
    ).exclude(pk=event.pk)
    # the usual login (a known device) answers in one query
    if earlier.filter(Q(ip=event.ip) & Q(user_agent=event.user_agent)).exists():
        return []
    if not earlier.exists():
        return []  # a first login has nothing to compare with
    return [
        Finding(
            "new_device",
            40,
            "login from a new device or address",
            f"session:{event.resource_id}",
            timedelta(minutes=1),
            event.resource_id,
        )
    ]


def _escalation_burst(event: AuditEvent) -> list[Finding]:
    if not event.actor_user_id:
        return []
    window = timedelta(minutes=5)
    changes = _recent(event, window).filter(
        type__in=ACCESS_CHANGES, actor_user_id=event.actor_user_id
    )
    if changes.count() < 10:
        return []
    return [
        Finding(
            "privilege_escalation_burst",
            70,
            "many access changes by one actor",
            f"actor:{event.actor_user_id}",
            window,
        )
    ]


DEPROVISIONING = frozenset({AuditEventType.USER_DEACTIVATED, AuditEventType.MEMBERSHIP_REMOVED})
MASS_DEPROVISIONING_COUNT = 20


def _mass_deprovisioning(event: AuditEvent) -> list[Finding]:
    """A directory (or a stolen credential) suspending or removing many members at once."""
    if event.actor_api_key_id:
        who, changes = (
            f"credential:{event.actor_api_key_id}",
            Q(actor_api_key_id=event.actor_api_key_id),
        )
    elif event.actor_user_id:
        who, changes = f"actor:{event.actor_user_id}", Q(actor_user_id=event.actor_user_id)
    else:
        return []
    window = timedelta(minutes=10)
    count = _recent(event, window).filter(changes, type__in=DEPROVISIONING).count()
    if count < MASS_DEPROVISIONING_COUNT:
        return []
    return [
        Finding(
            "mass_deprovisioning",
            70,
            f"{count} members suspended or removed by one actor in 10 minutes",
            who,
            window,
        )
    ]


RULES: dict[str, tuple[Callable[[AuditEvent], list[Finding]], ...]] = {
    AuditEventType.LOGIN_FAILED: (_brute_force,),
    AuditEventType.TOKEN_REUSE_DETECTED: (_token_reuse,),
    AuditEventType.LOGIN: (_new_device,),
    **{kind: (_escalation_burst,) for kind in ACCESS_CHANGES},
    **{kind: (_mass_deprovisioning,) for kind in DEPROVISIONING},
}


def threats_evaluate(event: AuditEvent) -> list[Finding]:
    """Run the rules for this event's type; record and announce what fires (same transaction)."""
    rules = RULES.get(event.type)
    if not rules:
        return []
    fired = []
    for rule in rules:
        for finding in rule(event):
            if _already_alerted(event, finding):
                continue
            _raise(event, finding)
            fired.append(finding)
    return fired


def _raise(event: AuditEvent, finding: Finding) -> None:
    audit_record(
        type=AuditEventType.SUSPICIOUS_ACTIVITY,
        actor=Actor(type="system", ip=event.ip, request_id=event.request_id),
        tenant_id=event.tenant_id,
        resource_type=event.resource_type,
        resource_id=event.resource_id,
        changes={
            "rule": finding.rule,
            "subject": finding.subject,
            "detail": finding.detail,
            "trigger": str(event.pk),
        },
        risk_score=finding.risk_score,
    )
    if finding.session_id:
        _raise_session_risk(finding.session_id, finding.risk_score)
    if event.tenant_id:
        notifications.security_alert.publish(
            tenant_id=event.tenant_id,
            alert=finding.rule,
            risk_score=finding.risk_score,
            detail=finding.detail,
            user_id=event.actor_user_id
            or (event.resource_id if event.resource_type == "user" else None),
        )


def _raise_session_risk(session_id, score: int) -> None:
    row = Session.objects.filter(pk=session_id).values_list("tenant_id", flat=True)
    if not row.exists():
        return
    Session.objects.filter(pk=session_id).update(risk_score=Greatest("risk_score", score))
    state_invalidate_session(tenant_id=row.first(), session_id=session_id)


def subscribe() -> None:
    """Evaluate the rules on each recorded event of a type they fire on (called at app start)."""
    audit_observe(types=RULES, observer=threats_evaluate)
