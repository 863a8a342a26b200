from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "tessera.compliance"
    label = "compliance"
    verbose_name = "Compliance evidence"
