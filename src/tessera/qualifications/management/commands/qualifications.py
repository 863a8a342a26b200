"""`tessera qualifications notify`: mail and publish the expiry alerts that are due (daily)."""

from django.core.management.base import BaseCommand

from tessera.qualifications.expiry import qualifications_expiry_notify


class Command(BaseCommand):
    help = "Qualification tools: `notify` sends the expiry alerts that are due."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("notify", help="alert holders and managers of records expiring soon")

    def handle(self, *args, action, **options):
        run = qualifications_expiry_notify()
        self.stdout.write(f"{run.records} expiring qualification(s) announced, {run.mails} mail(s)")
