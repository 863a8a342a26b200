"""`tessera audit verify [--tenant SLUG]`: detect altered or removed audit events."""

from django.core.management.base import BaseCommand, CommandError

from tessera.audit.models import AuditChain
from tessera.audit.selectors import audit_chain_verify
from tessera.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Audit trail tools: `verify` walks every hash chain."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="verify the hash chains")
        verify.add_argument("--tenant", help="only this tenant's chain (slug)")

    def handle(self, *args, action, tenant=None, **options):
        if tenant:
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"unknown tenant {tenant!r}")
            keys = [str(found.pk)]
        else:
            keys = list(AuditChain.objects.order_by("key").values_list("key", flat=True))
        broken = 0
        for key in keys:
            report = audit_chain_verify(key=key)
            if report.valid:
                self.stdout.write(f"ok      {key}: {report.checked} events")
            else:
                broken += 1
                self.stdout.write(
                    f"BROKEN  {key}: at event {report.first_broken} ({report.reason}), "
                    f"{report.checked} checked"
                )
        if broken:
            raise CommandError(f"{broken} chain(s) broken")
