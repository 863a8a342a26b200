from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "tessera.console"
    label = "console"
    verbose_name = "Tenant administration console"
