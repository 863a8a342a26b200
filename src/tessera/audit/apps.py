from django.apps import AppConfig
from django.db.models.signals import post_migrate

from tessera.audit.partitions import audit_partitions_ensure


def _ensure_partitions(sender, using="default", **kwargs):
    """After every migrate: the coming months' audit partitions exist (PostgreSQL)."""
    if using == "default":
        audit_partitions_ensure()


class AuditConfig(AppConfig):
    name = "tessera.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self):
        post_migrate.connect(_ensure_partitions, sender=self, dispatch_uid="audit_partitions")
