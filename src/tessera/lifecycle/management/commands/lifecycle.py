"""`tessera lifecycle erase-due` (daily: the erasures of offboarded members whose date has come)
and `tessera lifecycle reviews-due [--start]` (members whose first access review is due; with
`--start`, daily: open their campaigns)."""

from django.core.management.base import BaseCommand

from tessera.lifecycle.first_review import first_reviews_start
from tessera.lifecycle.joiner import first_reviews_due
from tessera.lifecycle.offboarding import offboardings_erase_due


class Command(BaseCommand):
    help = "Lifecycle tools: `erase-due` runs due erasures; `reviews-due` lists first reviews due."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("erase-due", help="erase offboarded members whose erasure date has come")
        due = sub.add_parser("reviews-due", help="list members whose first access review is due")
        due.add_argument("--start", action="store_true", help="open their review campaigns")

    def handle(self, *args, action, start=False, **options):
        if action == "erase-due":
            self.stdout.write(f"{offboardings_erase_due()} offboarded member(s) erased")
            return
        if start:
            self.stdout.write(f"{first_reviews_start()} first access review(s) opened")
            return
        for record in first_reviews_due()[:1000]:
            member = record.membership
            self.stdout.write(
                f"{member.tenant_id} {member.user_id} due {record.first_review_due_at.isoformat()}"
            )
