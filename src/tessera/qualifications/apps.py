from django.apps import AppConfig


class QualificationsConfig(AppConfig):
    name = "tessera.qualifications"
    label = "qualifications"
    verbose_name = "Qualifications"

    def ready(self) -> None:
        from tessera.access.qualification_source import qualification_reader_register
        from tessera.qualifications.selectors import qualifications_for_engine

        qualification_reader_register(qualifications_for_engine)
