from django.apps import AppConfig


class AuthnConfig(AppConfig):
    name = "tessera.authn"
    label = "authn"
    verbose_name = "Authentication"
