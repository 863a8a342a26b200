"""`tessera compliance soc2 --tenant SLUG [--since ISO] [--until ISO]`: SOC 2 evidence (JSON)."""

import json
from datetime import UTC, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tessera.audit.models import AuditEventType
from tessera.audit.services import audit_record
from tessera.compliance.soc2 import soc2_evidence
from tessera.tenancy.models import Tenant

DEFAULT_DAYS = 90


def _instant(value: str | None, name: str):
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--{name}: not an ISO 8601 date-time: {value!r}")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


class Command(BaseCommand):
    help = "Compliance evidence: `soc2` prints CC6.1–CC6.8 evidence for a tenant and period."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        soc2 = sub.add_parser("soc2", help="SOC 2 CC6.x evidence as JSON")
        soc2.add_argument("--tenant", required=True, help="tenant slug")
        soc2.add_argument("--since", help=f"ISO date-time (default: {DEFAULT_DAYS} days ago)")
        soc2.add_argument("--until", help="ISO date-time (default: now)")

    def handle(self, *args, action, tenant, since=None, until=None, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"unknown tenant {tenant!r}")
        end = _instant(until, "until") or timezone.now()
        start = _instant(since, "since") or end - timedelta(days=DEFAULT_DAYS)
        if start >= end:
            raise CommandError("--since must be before --until")
        evidence = soc2_evidence(tenant=found, since=start, until=end)
        audit_record(
            type=AuditEventType.DATA_EXPORTED,
            tenant_id=found.pk,
            resource_type="compliance_evidence",
            changes={"report": "soc2", "since": start.isoformat(), "until": end.isoformat()},
        )
        self.stdout.write(json.dumps(evidence, indent=2, default=str))
