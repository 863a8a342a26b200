from django.apps import AppConfig


class AuthnConfig(AppConfig):
    name = "tessera.authn"
    label = "authn"
    verbose_name = "Authentication"

    def ready(self) -> None:
        from tessera.authn.user_state import connect_user_signals

        connect_user_signals()
