"""`tessera load-role-template lims --tenant SLUG`: load an optional role set (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from tessera.access.role_templates import TEMPLATES, role_template_load
from tessera.errors import TesseraError
from tessera.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Create a template's roles in a tenant (existing roles are left as they are)."

    def add_arguments(self, parser):
        parser.add_argument("template", choices=sorted(TEMPLATES))
        parser.add_argument("--tenant", required=True, help="the tenant's slug")

    def handle(self, *args, template, tenant, **options):
        found = Tenant.objects.filter(slug=tenant.lower()).first()
        if found is None:
            raise CommandError(f"no tenant {tenant!r}")
        try:
            result = role_template_load(tenant=found, name=template)
        except TesseraError as exc:
            raise CommandError(exc.detail) from None
        for slug in result["created"]:
            self.stdout.write(f"created role {slug}")
        for slug in result["existing"]:
            self.stdout.write(f"exists  role {slug} (unchanged)")
        self.stdout.write(
            f"{template}: {len(result['created'])} created, {len(result['existing'])} existing"
        )
