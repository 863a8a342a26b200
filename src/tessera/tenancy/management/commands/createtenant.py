"""`tessera createtenant SLUG [--name NAME]`."""

from django.core.management.base import BaseCommand, CommandError

from tessera.errors import TesseraError
from tessera.tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant with the built-in roles."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default=None)

    def handle(self, *args, slug, name, **options):
        try:
            tenant = tenant_create(slug=slug, name=name or slug)
        except TesseraError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(f"created tenant {tenant.slug} ({tenant.pk})")
