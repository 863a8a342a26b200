from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "tessera.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"
