from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "tessera.realtime"
    label = "realtime"
    verbose_name = "Real-time notifications"

    def ready(self) -> None:
        # Django loads models before ready(): the publishers' module imports them, once.
        from tessera.realtime.notify import subscribe

        subscribe()
