from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "tessera.scim"
    label = "scim"
    verbose_name = "SCIM provisioning"
