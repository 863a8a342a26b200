"""`tessera init --tenant SLUG --admin-email E --admin-password P` (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from tessera.administration.bootstrap import bootstrap
from tessera.errors import TesseraError


class Command(BaseCommand):
    help = "Create the platform administrator, a tenant and the admin's membership (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--tenant-name", default=None)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)

    def handle(self, *args, tenant, tenant_name, admin_email, admin_password, **options):
        try:
            result = bootstrap(
                tenant_slug=tenant,
                tenant_name=tenant_name,
                admin_email=admin_email,
                admin_password=admin_password,
            )
        except TesseraError as exc:
            raise CommandError(f"{exc.detail} {exc.errors or ''}".strip()) from None
        what = []
        what.append("created tenant" if result.created_tenant else "tenant exists")
        what.append("created admin" if result.created_user else "admin exists")
        what.append("created membership" if result.created_membership else "membership exists")
        self.stdout.write(f"{result.tenant.slug}: " + ", ".join(what))
