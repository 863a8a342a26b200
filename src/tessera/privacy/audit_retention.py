"""Audit retention: which tenants still need their old events, and the archive that honours it.

A tenant keeps its audit trail in the database `settings.retention.audit_retention_days` (default
2557 days = 7 years, for security events; one period for the whole chain, which can only be cut
as a prefix), or for ever while `settings.retention.data_retention_exempt` is set (legal hold).
The platform chain (events with no tenant) keeps `TESSERA_AUDIT_PLATFORM_RETENTION_DAYS` (same
default). `audit_archive_run` moves whole months out only when no chain with events in them still
needs them; otherwise it refuses and names the tenants.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tessera.audit.archive import (
    ArchiveRefused,
    ArchiveResult,
    archive_cutoff,
    archive_problems,
    audit_archive_drop,
    audit_archive_write,
    audit_chains_before,
)
from tessera.audit.models import AuditEventType
from tessera.audit.partitions import month_start
from tessera.audit.services import PLATFORM_CHAIN, Actor, audit_record
from tessera.tenancy.models import Tenant
from tessera.tenancy.tenant_settings import RetentionPolicy

DEFAULT_RETENTION_DAYS = RetentionPolicy().audit_retention_days


def platform_retention_days() -> int:
    return int(getattr(settings, "TESSERA_AUDIT_PLATFORM_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def _tenant_id(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def retention_holds(*, chains: list[str], cutoff: datetime, now: datetime) -> list[str]:
    """Why events of these chains before the cutoff must stay: one line per holding chain."""
    ids = [tid for tid in map(_tenant_id, chains) if tid is not None]
    tenants = {str(t.pk): t for t in Tenant.objects.filter(pk__in=ids)}
    holds = []
    for key in sorted(chains):
        tenant = tenants.get(key)
        if tenant is not None:
            policy = tenant.policy.retention
            if policy.data_retention_exempt:
                holds.append(f"tenant {tenant.slug}: exempt from data retention (legal hold)")
                continue
            days, label = policy.audit_retention_days, f"tenant {tenant.slug}"
        else:
            days = platform_retention_days() if key == PLATFORM_CHAIN else DEFAULT_RETENTION_DAYS
            label = "the platform chain" if key == PLATFORM_CHAIN else f"chain {key} (no tenant)"
        keep_from = now - timedelta(days=days)
        if cutoff > keep_from:
            holds.append(
                f"{label}: keeps audit events {days} days, none before {keep_from:%Y-%m-%d} "
                "may be archived"
            )
    return holds


def audit_archive_run(
    *, before: date, out_dir: Path, compress: bool = False, now: datetime | None = None
) -> ArchiveResult:
    """Archive every whole month before `before` to `out_dir`, then remove it from the database.

    Raises ArchiveRefused (nothing removed) when the cutoff is not in the past, a tenant's
    retention or legal hold still needs an event, or a chain's old part is not a clean prefix.
    Records AUDIT_ARCHIVED on the platform chain, in the transaction that removes the events.
    """
    now = now or timezone.now()
    cutoff = archive_cutoff(before)
    if cutoff > month_start(now):
        raise ArchiveRefused(f"{cutoff:%Y-%m-%d} is in the current month or later")
    spans = audit_chains_before(cutoff)
    problems = retention_holds(chains=list(spans), cutoff=cutoff, now=now)
    if problems:
        raise ArchiveRefused(
            "retention still needs events before "
            + f"{cutoff:%Y-%m-%d}:\n  "
            + "\n  ".join(problems)
        )
    problems = archive_problems(cutoff, spans)
    if problems:
        raise ArchiveRefused("the chains cannot be cut there:\n  " + "\n  ".join(problems))
    result = audit_archive_write(cutoff=cutoff, out_dir=out_dir, compress=compress)
    with transaction.atomic():
        removed = audit_archive_drop(result)
        audit_record(
            type=AuditEventType.AUDIT_ARCHIVED,
            actor=Actor.system(),
            resource_type="audit_archive",
            resource_id=f"{cutoff:%Y-%m-%d}",
            changes={
                "before": f"{cutoff:%Y-%m-%d}",
                "events": removed,
                "chains": len(result.chains),
                "files": [f.name for f in result.files],
            },
        )
    return result
