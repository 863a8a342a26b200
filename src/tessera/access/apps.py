from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "tessera.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        # Django loads models before ready(): the observers' modules import them here, once.
        from tessera.access.observers import subscribe

        subscribe()
