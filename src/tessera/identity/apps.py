from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "tessera.identity"
    label = "identity"
    verbose_name = "Identity"
