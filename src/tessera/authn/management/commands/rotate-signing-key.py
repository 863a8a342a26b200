"""`tessera rotate-signing-key`: a new current JWT signing key; the former one keeps verifying."""

from django.core.management.base import BaseCommand

from tessera.authn.keys import signing_key_rotate


class Command(BaseCommand):
    help = (
        "Create a new current signing key. Tokens signed by the former key stay valid until they "
        "expire, and /.well-known/jwks.json keeps publishing it until then."
    )

    def handle(self, *args, **options):
        key = signing_key_rotate()
        self.stdout.write(f"new signing key {key.kid} ({key.alg}) is current")
