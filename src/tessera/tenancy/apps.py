from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tessera.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
