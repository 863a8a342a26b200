from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "tessera.realtime"
    label = "realtime"
    verbose_name = "Real-time notifications"
