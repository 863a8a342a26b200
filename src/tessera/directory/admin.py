"""Admin for verified domains: claims are read here, approved or dropped through the services
(audited); a platform administrator's approval replaces the DNS proof."""

from __future__ import annotations

from django.contrib import admin, messages

from tessera.access.admin.mixins import ServiceAdminMixin
from tessera.audit.actors import actor_from_request
from tessera.directory.domains import domain_approve, domain_delete
from tessera.directory.models import Domain
from tessera.errors import TesseraError


@admin.register(Domain)
class DomainAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ("domain", "tenant", "verified_at", "verified_by", "created_at")
    list_filter = ("verified_by",)
    search_fields = ("domain", "tenant__slug")
    readonly_fields = [f.name for f in Domain._meta.fields]
    actions = ["approve"]

    def has_add_permission(self, request):
        return False  # a tenant claims its domains (POST /api/v1/domains)

    def delete_model(self, request, obj):
        domain_delete(domain=obj, actor=actor_from_request(request))

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Approve the selected claims (verify without DNS)")
    def approve(self, request, queryset):
        for domain in queryset.filter(verified_at__isnull=True):
            try:
                domain_approve(domain=domain, actor=actor_from_request(request))
            except TesseraError as exc:
                self.message_user(request, f"{domain.domain}: {exc.detail}", messages.ERROR)
