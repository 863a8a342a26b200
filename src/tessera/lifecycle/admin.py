"""Admin site: joiner templates and offboardings, read-only (they change through the API)."""

from __future__ import annotations

from django.contrib import admin

from tessera.lifecycle.models import JoinerRecord, JoinerTemplate, Offboarding


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(JoinerTemplate)
class JoinerTemplateAdmin(_ReadOnly):
    list_display = ("tenant", "require_mfa", "welcome_mail", "first_review_after_days")


@admin.register(JoinerRecord)
class JoinerRecordAdmin(_ReadOnly):
    list_display = ("membership", "tenant", "mfa_required", "first_review_due_at")


@admin.register(Offboarding)
class OffboardingAdmin(_ReadOnly):
    list_display = ("user_id", "tenant", "status", "erase_at", "created_at")
    list_filter = ("status", "tenant")
    exclude = ("export",)  # personal data: downloadable through the API with user:export
