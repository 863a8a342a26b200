"""SOC 2 evidence for CC6.1–CC6.8 from the data Tessera holds, for one tenant and one period.

`soc2_evidence(tenant=…, since=…, until=…)` answers, per criterion, the tenant's configuration
in force (as stored) and numbers — each with the SQL that produced it (`measure`). The period
bounds event counts (audit events, creations, deactivations); coverage figures (MFA, privileged
members, live credentials) are taken at `until`'s present state, since Tessera keeps no history
of them beyond the audit trail. Nothing here writes, except the audit event of the export
itself, recorded by the caller.

CC6.4 (physical access) has no data in an IAM service: it is listed with `applicable: false`.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from tessera.access.privileged import PRIVILEGED_PERMISSIONS, privileged_members
from tessera.access.selectors import membership_role_slugs
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.audit.selectors import audit_chain_verify
from tessera.audit.services import chain_key
from tessera.authn.models import ApiKey, Session
from tessera.compliance.measure import measure, share
from tessera.expiry import active_at
from tessera.identity.models import TotpFactor
from tessera.reviews.models import AccessReview, AccessReviewItem, Decision, ReviewStatus
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "access_changes": (
        AuditEventType.ROLE_ASSIGNED,
        AuditEventType.ROLE_REMOVED,
        AuditEventType.PERMISSION_CHANGE,
        AuditEventType.GRANT_CREATED,
        AuditEventType.GRANT_REVOKED,
        AuditEventType.DELEGATION_CREATED,
        AuditEventType.DELEGATION_REVOKED,
    ),
    "threats": (
        AuditEventType.LOGIN_FAILED,
        AuditEventType.ACCOUNT_LOCKED,
        AuditEventType.TOKEN_REUSE_DETECTED,
        AuditEventType.SUSPICIOUS_ACTIVITY,
    ),
}


def _hours(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"median_hours": None, "max_hours": None}
    return {
        "median_hours": round(statistics.median(seconds) / 3600, 2),
        "max_hours": round(max(seconds) / 3600, 2),
    }


def _events(tenant: Tenant, since: datetime, until: datetime, *types: str):
    return AuditEvent.objects.filter(
        tenant=tenant, created_at__gte=since, created_at__lt=until, type__in=types
    )


def _event_counts(tenant: Tenant, since: datetime, until: datetime, types) -> dict[str, int]:
    counts = {str(t): 0 for t in types}
    for kind in _events(tenant, since, until, *types).values_list("type", flat=True):
        counts[kind] += 1
    return counts


def _active(tenant: Tenant):
    return Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE)


def _cc6_1(tenant: Tenant, now: datetime) -> dict[str, Any]:
    policy = tenant.policy

    def mfa_coverage() -> dict[str, Any]:
        active = _active(tenant)
        total = active.count()
        with_mfa = active.filter(
            user_id__in=TotpFactor.objects.filter(confirmed_at__isnull=False).values("user_id")
        ).count()
        return {"active_members": total, "with_mfa": with_mfa, "percent": share(with_mfa, total)}

    def api_keys() -> dict[str, int]:
        live = ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).filter(active_at(now))
        return {
            "live": live.count(),
            "without_expiry": live.filter(expires_at__isnull=True).count(),
            "with_ip_allowlist": live.exclude(allowed_ips=[]).count(),
        }

    return {
        "title": "Logical access security: authentication",
        "configuration": {
            "password": policy.password.model_dump(),
            "lockout": policy.lockout.model_dump(),
            "sessions": policy.sessions.model_dump(),
            "mfa": policy.mfa.model_dump(),
            "impersonation": policy.impersonation.model_dump(),
        },
        "metrics": [
            measure("mfa_coverage", "Active members with a confirmed TOTP factor", mfa_coverage),
            measure("api_keys", "Live API keys, without expiry, with an IP allowlist", api_keys),
        ],
    }


def _cc6_2(tenant: Tenant, since: datetime, until: datetime) -> dict[str, Any]:
    def provisioning() -> dict[str, Any]:
        first = (
            Session.objects.filter(membership=OuterRef("pk"))
            .order_by("created_at")
            .values("created_at")[:1]
        )
        rows = (
            Membership.objects.filter(tenant=tenant, created_at__gte=since, created_at__lt=until)
            .annotate(first_access=Subquery(first))
            .values_list("created_at", "first_access")
        )
        lags = [(used - made).total_seconds() for made, used in rows if used is not None]
        return {"created": len(rows), "with_first_access": len(lags), **_hours(lags)}

    return {
        "title": "Registration and authorization of new members (created → first access)",
        "metrics": [
            measure(
                "provisioning", "Members created in the period; time to first sign-in", provisioning
            ),
            measure(
                "invitations",
                "Invitation and member-creation events in the period",
                lambda: _event_counts(
                    tenant,
                    since,
                    until,
                    (
                        AuditEventType.USER_CREATED,
                        AuditEventType.INVITATION_CREATED,
                        AuditEventType.INVITATION_ACCEPTED,
                    ),
                ),
            ),
        ],
    }


def _cc6_3(tenant: Tenant, since: datetime, until: datetime, now: datetime) -> dict[str, Any]:
    def privileged() -> dict[str, Any]:
        members = list(privileged_members(tenant=tenant, now=now).select_related("user"))
        return {
            "count": len(members),
            "active_members": _active(tenant).count(),
            "members": [
                {
                    "user_id": str(m.user_id),
                    "email": m.user.email,
                    "roles": membership_role_slugs(membership_id=m.pk, now=now),
                }
                for m in members
            ],
        }

    def reviews() -> dict[str, Any]:
        completed = AccessReview.objects.filter(
            tenant=tenant,
            status=ReviewStatus.COMPLETED,
            completed_at__gte=since,
            completed_at__lt=until,
        )
        decided = AccessReviewItem.objects.filter(
            review__tenant=tenant, decided_at__gte=since, decided_at__lt=until
        )
        overdue = AccessReviewItem.objects.filter(
            review__tenant=tenant,
            review__status=ReviewStatus.OPEN,
            review__due_at__lt=now,
            decision=Decision.PENDING,
        )
        return {
            "campaigns_completed": completed.count(),
            "campaigns_started": AccessReview.objects.filter(
                tenant=tenant, created_at__gte=since, created_at__lt=until
            ).count(),
            "items_kept": decided.filter(decision=Decision.KEEP).count(),
            "items_revoked": decided.filter(decision=Decision.REVOKE).count(),
            "items_overdue_now": overdue.count(),
        }

    return {
        "title": "Role-based access, least privilege, changes and reviews",
        "privileged_permissions": list(PRIVILEGED_PERMISSIONS),
        "metrics": [
            measure("privileged_members", "Active members holding privileged access", privileged),
            measure("access_reviews", "Access review campaigns and decisions", reviews),
            measure(
                "access_changes",
                "Access changes recorded in the period",
                lambda: _event_counts(tenant, since, until, EVENT_GROUPS["access_changes"]),
            ),
        ],
    }


def _cc6_5(tenant: Tenant, since: datetime, until: datetime, now: datetime) -> dict[str, Any]:
    def deprovisioning() -> dict[str, Any]:
        suspended = list(
            _events(tenant, since, until, AuditEventType.USER_DEACTIVATED)
            .order_by("created_at")
            .values_list("resource_id", "created_at")
        )
        lags: list[float] = []
        used_after = still_live = 0
        for user_id, at in suspended:
            membership = Membership.objects.filter(tenant=tenant, user_id=user_id).first()
            if membership is None:
                continue
            last_session = Session.objects.filter(membership=membership).aggregate(
                last=Max("last_activity_at")
            )["last"]
            last_key = ApiKey.objects.filter(membership=membership).aggregate(
                last=Max("last_used_at")
            )["last"]
            uses = [t for t in (last_session, last_key) if t is not None]
            if uses:
                lag = (max(uses) - at).total_seconds()
                lags.append(lag)
                used_after += lag > 0
            still_live += Session.objects.filter(
                membership=membership, revoked_at__isnull=True, absolute_expires_at__gt=now
            ).count()
        return {
            "deactivated": len(suspended),
            "credential_used_after_deactivation": used_after,
            "live_sessions_of_deactivated_members": still_live,
            "last_use_after_deactivation_max_seconds": max(lags) if lags else None,
        }

    return {
        "title": "Removal of access (suspended → last credential use)",
        "metrics": [
            measure("deprovisioning", "Members deactivated in the period", deprovisioning),
            measure(
                "removals",
                "Removals and erasures in the period",
                lambda: _event_counts(
                    tenant,
                    since,
                    until,
                    (
                        AuditEventType.USER_DEACTIVATED,
                        AuditEventType.MEMBERSHIP_REMOVED,
                        AuditEventType.DATA_ERASED,
                        AuditEventType.API_KEY_REVOKED,
                    ),
                ),
            ),
        ],
    }


def soc2_evidence(
    *, tenant: Tenant, since: datetime, until: datetime, now: datetime | None = None
) -> dict[str, Any]:
    """The evidence document for the tenant and the period [since, until)."""
    now = now or timezone.now()

    def chain() -> dict[str, Any]:
        report = audit_chain_verify(key=chain_key(tenant.pk))
        return {
            "valid": report.valid,
            "checked": report.checked,
            "first_broken": report.first_broken,
        }

    return {
        "tenant": {"id": str(tenant.pk), "slug": tenant.slug, "name": tenant.name},
        "period": {"since": since.isoformat(), "until": until.isoformat()},
        "generated_at": now.isoformat(),
        "controls": {
            "CC6.1": _cc6_1(tenant, now),
            "CC6.2": _cc6_2(tenant, since, until),
            "CC6.3": _cc6_3(tenant, since, until, now),
            "CC6.4": {
                "title": "Physical access",
                "applicable": False,
                "metrics": [],
            },
            "CC6.5": _cc6_5(tenant, since, until, now),
            "CC6.6": {
                "title": "Threats from outside the system boundary",
                "metrics": [
                    measure(
                        "threat_events",
                        "Failed sign-ins, lockouts, refresh-token reuse, suspicious activity",
                        lambda: _event_counts(tenant, since, until, EVENT_GROUPS["threats"]),
                    ),
                    measure(
                        "impersonations",
                        "Impersonation sessions started in the period",
                        lambda: _events(
                            tenant, since, until, AuditEventType.IMPERSONATION_STARTED
                        ).count(),
                    ),
                ],
            },
            "CC6.7": {
                "title": "Movement of data: exports",
                "metrics": [
                    measure(
                        "exports",
                        "Data and audit exports in the period",
                        lambda: _events(tenant, since, until, AuditEventType.DATA_EXPORTED).count(),
                    ),
                ],
            },
            "CC6.8": {
                "title": "Detection of unauthorized changes: the audit hash chain",
                "metrics": [measure("audit_chain", "The tenant's audit chain, verified", chain)],
            },
        },
    }
