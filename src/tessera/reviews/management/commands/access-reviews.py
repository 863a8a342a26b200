"""`tessera access-reviews remind`: mail reviewers whose access review items are overdue."""

from django.core.management.base import BaseCommand

from tessera.reviews.reminders import access_reviews_remind


class Command(BaseCommand):
    help = "Access review tools: `remind` mails reviewers with overdue items (run it daily)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("remind", help="mail reviewers with overdue pending items")

    def handle(self, *args, action, **options):
        sent = access_reviews_remind()
        self.stdout.write(f"reminded {sent.reviewers} reviewer(s) of {sent.items} overdue item(s)")
