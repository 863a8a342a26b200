from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "tessera.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"

    def ready(self) -> None:
        from tessera.authn.mfa_requirements import mfa_requirement_register
        from tessera.lifecycle.joiner import joiner_requires_mfa, on_member_joined, on_member_moved
        from tessera.tenancy.member_hooks import (
            member_join_observer_register,
            member_move_observer_register,
        )

        member_join_observer_register(on_member_joined)
        member_move_observer_register(on_member_moved)
        mfa_requirement_register(joiner_requires_mfa)
