"""First run of `make run`: a demo tenant and an administrator, credentials printed once."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from tessera.administration.bootstrap import bootstrap
from tessera.tenancy.models import Tenant

DEMO_EMAIL = "admin@demo.example"


class Command(BaseCommand):
    help = "Create the demo tenant and its administrator on an empty database (prints once)."

    def handle(self, *args, **options):
        if Tenant.objects.exists():
            return
        password = secrets.token_urlsafe(18)
        bootstrap(
            tenant_slug="demo",
            tenant_name="Demo",
            admin_email=DEMO_EMAIL,
            admin_password=password,
        )
        bar = "=" * 64
        self.stdout.write(
            f"{bar}\nTessera first run: demo tenant created.\n"
            f"  tenant:   demo\n  email:    {DEMO_EMAIL}\n  password: {password}\n"
            f"This password is shown once.\n"
            f"  sign in:  {settings.PUBLIC_URL}/signin/   (your account: /account/)\n"
            f"  admin UI: {settings.PUBLIC_URL}/admin/    (platform administrators)\n{bar}"
        )
