"""Admin for role assignments, object-level grants and delegations."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction

from tessera.access.admin.mixins import ServiceAdminMixin
from tessera.access.models import (
    Delegation,
    DelegationStatus,
    Grant,
    RoleAssignment,
)
from tessera.access.services.assignments import role_assign, role_unassign
from tessera.access.services.delegations import delegation_create, delegation_revoke
from tessera.access.services.grants import grant_create, grant_delete
from tessera.audit.actors import actor_from_request

# --- assignments --------------------------------------------------------------------------------


class RoleAssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("membership", "role", "expires_at")

    def clean(self):
        data = super().clean()
        membership, role = data.get("membership"), data.get("role")
        if membership is not None and role is not None and membership.tenant_id != role.tenant_id:
            raise ValidationError({"role": "Choose a role of the member's tenant."})
        return data


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = RoleAssignmentForm
    list_display = ("membership", "role", "tenant", "expires_at", "created_at")
    list_filter = ("role__tenant", "role__slug")
    search_fields = ("membership__user__email", "role__slug")
    list_select_related = ("membership__user", "role__tenant")
    raw_id_fields = ("membership",)
    readonly_fields = ("granted_by", "created_at")

    @admin.display(description="tenant", ordering="role__tenant__slug")
    def tenant(self, obj):
        return obj.role.tenant

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        assignment = role_assign(
            membership=obj.membership,
            role=obj.role,
            expires_at=obj.expires_at,
            actor=actor_from_request(request),
        )
        obj.pk, obj.created_at = assignment.pk, assignment.created_at
        obj._state.adding = False

    def delete_model(self, request, obj):
        role_unassign(membership=obj.membership, role=obj.role, actor=actor_from_request(request))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset.select_related("membership", "role"):
                self.delete_model(request, obj)


# --- grants ------------------------------------------------------------------------------------


class GrantForm(forms.ModelForm):
    class Meta:
        model = Grant
        fields = (
            "tenant",
            "membership",
            "role",
            "permission",
            "resource_type",
            "resource_id",
            "expires_at",
        )

    def clean(self):
        data = super().clean()
        tenant = data.get("tenant")
        for name in ("membership", "role"):
            value = data.get(name)
            if value is not None and tenant is not None and value.tenant_id != tenant.pk:
                self.add_error(name, "Must belong to the grant's tenant.")
        return data


@admin.register(Grant)
class GrantAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = GrantForm
    list_display = (
        "permission",
        "resource_type",
        "resource_id",
        "membership",
        "role",
        "tenant",
        "expires_at",
    )
    list_filter = ("tenant", "resource_type")
    search_fields = ("permission", "resource_type", "resource_id", "membership__user__email")
    list_select_related = ("tenant", "membership__user", "role")
    raw_id_fields = ("membership", "role")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        grant = grant_create(
            tenant=obj.tenant,
            permission=obj.permission,
            resource_type=obj.resource_type,
            resource_id=obj.resource_id,
            membership=obj.membership,
            role=obj.role,
            expires_at=obj.expires_at,
            actor=actor_from_request(request),
        )
        obj.pk, obj.created_at = grant.pk, grant.created_at
        obj._state.adding = False

    def delete_model(self, request, obj):
        grant_delete(grant=obj, actor=actor_from_request(request))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for grant in queryset:
                grant_delete(grant=grant, actor=actor_from_request(request))


# --- delegations --------------------------------------------------------------------------------


class DelegationForm(forms.ModelForm):
    class Meta:
        model = Delegation
        fields = ("delegator", "delegate", "role", "permissions", "starts_at", "ends_at", "reason")

    def clean(self):
        data = super().clean()
        delegator, delegate, role = data.get("delegator"), data.get("delegate"), data.get("role")
        if delegator is not None:
            for name, value in (("delegate", delegate), ("role", role)):
                if value is not None and value.tenant_id != delegator.tenant_id:
                    self.add_error(name, "Must belong to the delegator's tenant.")
        return data


@admin.register(Delegation)
class DelegationAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = DelegationForm
    list_display = (
        "delegator",
        "delegate",
        "role",
        "permissions",
        "status",
        "starts_at",
        "ends_at",
    )
    list_filter = ("status", "tenant")
    search_fields = ("delegator__user__email", "delegate__user__email", "reason")
    list_select_related = ("delegator__user", "delegate__user", "role")
    raw_id_fields = ("delegator", "delegate", "role")
    readonly_fields = ("status", "created_by", "approved_by", "created_at", "revoked_at")
    actions = ["revoke_delegations"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # delegations are revoked, never deleted: their trail stays

    def save_model(self, request, obj, form, change):
        delegation = delegation_create(
            delegator=obj.delegator,
            delegate=obj.delegate,
            role=obj.role,
            permissions=list(obj.permissions or []) or None,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            reason=obj.reason,
            actor=actor_from_request(request),
        )
        obj.pk, obj.created_at, obj.status = delegation.pk, delegation.created_at, delegation.status
        obj._state.adding = False

    @admin.action(description="Revoke the selected delegations")
    def revoke_delegations(self, request, queryset):
        done = 0
        for delegation in queryset.filter(
            status__in=[DelegationStatus.ACTIVE, DelegationStatus.PENDING]
        ):
            delegation_revoke(delegation=delegation, actor=actor_from_request(request))
            done += 1
        self.message_user(request, f"Revoked {done} delegation(s).", messages.SUCCESS)
