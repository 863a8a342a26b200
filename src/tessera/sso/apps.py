from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "tessera.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from tessera.authn.flows.login import EMAIL_GATES
        from tessera.sso.gate import sso_required_gate

        if sso_required_gate not in EMAIL_GATES:
            EMAIL_GATES.append(sso_required_gate)
