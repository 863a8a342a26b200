"""`tessera cleanup`: delete expired sessions, refresh and reset tokens, dead signing keys, spent
MFA challenges, long-dead trusted devices, used or expired email-verification links and expired
WebSocket tickets; and create the coming months' audit partitions (PostgreSQL)."""

from django.core.management.base import BaseCommand

from tessera.audit.partitions import audit_partitions_ensure
from tessera.authn.cleanup import authn_cleanup
from tessera.authn.flows.mfa import mfa_cleanup
from tessera.authn.verification import verification_cleanup
from tessera.realtime.tickets import tickets_delete_expired


class Command(BaseCommand):
    help = "Delete authentication records that can no longer be used (run it daily)."

    def handle(self, *args, **options):
        counts = {**authn_cleanup(), **mfa_cleanup(), **verification_cleanup()}
        counts["ws_tickets"] = tickets_delete_expired()
        counts["audit_partitions_created"] = len(audit_partitions_ensure())
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()))
