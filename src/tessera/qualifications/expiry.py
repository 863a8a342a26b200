"""Expiry alerts: mail holders and their managers N days before a record expires, and publish a
real-time `qualification.expiring` event to both.

`qualifications_expiry_notify(now=…)` is what a scheduler calls (daily); `tessera qualifications
notify` runs it from the shell. N is the tenant setting `qualifications.expiry_notice_days`
(0 = never). Each record is announced once (`expiry_notified_at`, claimed under a row lock, so two
concurrent runs never mail twice); a renewed record is a new record and is announced again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tessera import notifications
from tessera.identity.mailer import mail_queue
from tessera.qualifications.models import QualificationRecord
from tessera.tenancy.models import MembershipStatus, Tenant

BATCH = 500


@dataclass(frozen=True, slots=True)
class ExpiryRun:
    records: int
    mails: int


def _due(tenant: Tenant, now: datetime):
    days = tenant.policy.qualifications.expiry_notice_days
    if days <= 0:
        return QualificationRecord.objects.none()
    return QualificationRecord.objects.filter(
        tenant=tenant,
        revoked_at__isnull=True,
        expiry_notified_at__isnull=True,
        valid_until__gt=now,
        valid_until__lte=now + timedelta(days=days),
        membership__status=MembershipStatus.ACTIVE,
    )


def _announce(record: QualificationRecord, tenant: Tenant) -> int:
    holder = record.membership
    manager = holder.manager if holder.manager_id else None
    context = {
        "tenant_name": tenant.name,
        "type_name": record.type.name,
        "code": record.type.code,
        "level": record.level,
        "expires_on": record.valid_until.isoformat() if record.valid_until else "",
        "holder": holder.user.email,
    }
    readers = [(holder, True)]
    if manager is not None and manager.status == MembershipStatus.ACTIVE:
        readers.append((manager, False))
    mails = 0
    for reader, own in readers:
        if reader.user.is_active:
            mail_queue(
                "qualification_expiring",
                to=reader.user.email,
                context={**context, "own": own},
                link=None,
            )
            mails += 1
    notifications.qualification_expiring.publish(
        tenant_id=tenant.pk,
        user_ids=[holder.user_id, *([manager.user_id] if manager is not None else [])],
        holder_user_id=holder.user_id,
        record_id=record.pk,
        code=record.type.code,
        level=record.level,
        valid_until=record.valid_until,
    )
    return mails


def qualifications_expiry_notify(*, now: datetime | None = None) -> ExpiryRun:
    """Announce every record expiring within its tenant's notice period (see the module)."""
    now = now or timezone.now()
    records = mails = 0
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        while True:
            with transaction.atomic():
                batch = list(
                    _due(tenant, now)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("type", "membership__user", "membership__manager__user")
                    .order_by("valid_until", "id")[:BATCH]
                )
                for record in batch:
                    mails += _announce(record, tenant)
                QualificationRecord.objects.filter(pk__in=[r.pk for r in batch]).update(
                    expiry_notified_at=now
                )
            records += len(batch)
            if len(batch) < BATCH:
                break
    return ExpiryRun(records=records, mails=mails)
