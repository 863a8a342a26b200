"""The admin site: platform administrators only."""

from django.contrib.admin.apps import AdminConfig


class TesseraAdminConfig(AdminConfig):
    default_site = "tessera.admin_site.TesseraAdminSite"


from django.contrib.admin import AdminSite  # noqa: E402


class TesseraAdminSite(AdminSite):
    site_header = "Tessera administration"
    site_title = "Tessera"
    index_title = "Identities, tenants and access"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_platform_admin", False))
