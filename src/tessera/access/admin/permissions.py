"""Admin for the tenant's permission catalog."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from tessera.access.admin.mixins import ServiceAdminMixin
from tessera.access.models import (
    Permission,
)
from tessera.access.services.permissions import permission_create
from tessera.audit.actors import actor_from_request

# --- the permission catalog ---------------------------------------------------------------------


class PermissionForm(forms.ModelForm):
    class Meta:
        model = Permission
        fields = ("tenant", "permission", "description")

    def clean_tenant(self):
        tenant = self.cleaned_data.get("tenant")
        if tenant is None:
            raise ValidationError("Tenant permissions only: the system catalog is fixed.")
        return tenant


@admin.register(Permission)
class PermissionAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = PermissionForm
    list_display = ("permission", "description", "tenant", "is_system")
    list_filter = ("is_system", "tenant")
    search_fields = ("permission", "description")
    fields = ("tenant", "permission", "description")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        entry = permission_create(
            tenant=obj.tenant,
            permission=obj.permission,
            description=obj.description,
            actor=actor_from_request(request),
        )
        obj.pk, obj.created_at = entry.pk, entry.created_at
        obj._state.adding = False
