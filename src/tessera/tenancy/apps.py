from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tessera.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        # Django loads models before ready(): these modules import them, so they are imported here.
        from corsheaders.signals import check_request_enabled

        from tessera.identity.passwords import member_tenants_provide
        from tessera.tenancy.cors import cors_origin_allowed
        from tessera.tenancy.selectors import member_tenants

        member_tenants_provide(member_tenants)
        check_request_enabled.connect(cors_origin_allowed, dispatch_uid="tessera-tenant-cors")
