"""`tessera decide USER_EMAIL TENANT ACTION [...]`: a policy decision from the shell.

Exit status: 0 allowed, 1 denied, 2 bad input (unknown user or tenant, not a member, malformed
action). The context is the shell's: now, no IP unless `--ip`, MFA only with `--mfa`.
"""

import json
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tessera.access.bridge import decisions
from tessera.engine import Context, Resource
from tessera.errors import TesseraError
from tessera.identity.emails import normalize_email
from tessera.tenancy.models import Membership, Tenant


class Command(BaseCommand):
    help = "Decide whether a member may do ACTION (exit 0 allowed, 1 denied, 2 bad input)."

    def add_arguments(self, parser):
        parser.add_argument("user_email")
        parser.add_argument("tenant", help="slug or id")
        parser.add_argument("action", help="resource:action")
        parser.add_argument("--resource-type", default=None)
        parser.add_argument("--resource-id", default=None)
        parser.add_argument("--owner-id", default=None, help="the resource owner's user id")
        parser.add_argument("--department", default=None, help="the resource's department")
        parser.add_argument("--ip", default=None)
        parser.add_argument("--mfa", action="store_true", help="decide as if MFA was verified")
        parser.add_argument("--explain", action="store_true", help="print the explanation JSON")

    def handle(self, *args, user_email, tenant, action, **options):
        slug = tenant.lower()
        found = Tenant.objects.filter(slug=slug).first()
        if found is None:
            found = Tenant.objects.filter(pk=_uuid(tenant)).first() if _uuid(tenant) else None
        if found is None:
            raise CommandError(f"no tenant {tenant!r}", returncode=2)
        membership = (
            Membership.objects.filter(tenant=found, user__email=normalize_email(user_email))
            .select_related("user", "tenant")
            .first()
        )
        if membership is None:
            raise CommandError(f"{user_email} is not a member of {found.slug}", returncode=2)
        resource_type = options["resource_type"]
        if resource_type is None and any(
            options[k] for k in ("resource_id", "owner_id", "department")
        ):
            resource_type = action.split(":", 1)[0]
        resource = (
            Resource(
                type=resource_type,
                id=options["resource_id"],
                owner_id=options["owner_id"],
                department=options["department"],
            )
            if resource_type
            else None
        )
        context = Context(now=timezone.now(), ip=options["ip"], mfa_verified=options["mfa"])
        try:
            decision = decisions.check(
                membership=membership,
                action=action,
                resource=resource,
                context=context,
                explain=options["explain"],
            )
        except TesseraError as exc:
            detail = "; ".join(e["message"] for e in exc.errors or []) or exc.detail
            raise CommandError(detail, returncode=2) from None
        self.stdout.write("allowed" if decision.allowed else "denied")
        self.stdout.write(f"reason: {decision.reason}")
        if options["explain"]:
            self.stdout.write(json.dumps(decision.to_json(), indent=2, default=str))
        if not decision.allowed:
            raise SystemExit(1)


def _uuid(text: str):
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
