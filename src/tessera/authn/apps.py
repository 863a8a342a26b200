from django.apps import AppConfig


class AuthnConfig(AppConfig):
    name = "tessera.authn"
    label = "authn"
    verbose_name = "Authentication"

    def ready(self) -> None:
        # Django loads models before ready(): these modules import them, so they are imported here.
        from tessera.authn.flows.mfa import register as register_mfa_step
        from tessera.authn.threats import subscribe as subscribe_threats
        from tessera.authn.user_state import connect_user_signals

        connect_user_signals()
        subscribe_threats()
        register_mfa_step()  # the MFA step of the login flow (flows.login.STEPS)
