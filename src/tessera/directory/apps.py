from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "tessera.directory"
    label = "directory"
    verbose_name = "Directory"
