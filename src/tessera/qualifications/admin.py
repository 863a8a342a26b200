"""Admin site: the catalog and the records (read-mostly; records change through the services)."""

from __future__ import annotations

from django.contrib import admin, messages

from tessera.audit.models import ActorType
from tessera.audit.services import Actor
from tessera.errors import TesseraError
from tessera.qualifications.models import QualificationRecord, QualificationType
from tessera.qualifications.services import qualification_record_revoke


@admin.register(QualificationType)
class QualificationTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "validity_days", "tenant")
    list_filter = ("kind", "tenant")
    search_fields = ("code", "name")
    readonly_fields = ("code", "tenant", "created_at")

    def has_add_permission(self, request) -> bool:
        return False  # through the API (audited); the code is what rules name


@admin.register(QualificationRecord)
class QualificationRecordAdmin(admin.ModelAdmin):
    list_display = ("type", "membership", "level", "valid_from", "valid_until", "revoked_at")
    list_filter = ("type__kind", "tenant")
    search_fields = ("type__code", "membership__user__email")
    readonly_fields = [f.name for f in QualificationRecord._meta.fields]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected qualifications (audited)")
    def revoke(self, request, queryset) -> None:
        actor = Actor(
            type=ActorType.USER,
            user_id=request.user.pk,
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        )
        done = 0
        for record in queryset.filter(revoked_at__isnull=True).select_related(
            "membership", "type", "verified_by"
        ):
            try:
                qualification_record_revoke(
                    record=record, by=None, reason="revoked in the admin site", actor=actor
                )
                done += 1
            except TesseraError as error:
                self.message_user(request, f"{record}: {error.detail}", messages.ERROR)
        self.message_user(request, f"{done} qualification(s) revoked")

    def has_add_permission(self, request) -> bool:
        return False  # the verifier is a member of the tenant: POST /users/{id}/qualifications

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None  # the list (and its revoke action); no record is edited in place

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
