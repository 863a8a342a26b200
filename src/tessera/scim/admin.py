"""Admin for SCIM credentials (platform administrators): created with the raw token shown once,
revoked through the service (audited); the stored hash is never shown. Directory groups and
attribute mappings are listed, the mappings edited."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from tessera.access.admin.mixins import ServiceAdminMixin
from tessera.audit.models import ActorType
from tessera.audit.services import Actor
from tessera.scim.models import ScimAttributeMap, ScimGroup, ScimToken
from tessera.scim.tokens import scim_token_create, scim_token_revoke


def _admin_actor(request) -> Actor:
    return Actor(
        type=ActorType.USER,
        user_id=request.user.pk,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        request_id=getattr(request, "request_id", "") or "",
    )


class ScimTokenForm(forms.ModelForm):
    class Meta:
        model = ScimToken
        fields = ("tenant", "name")


@admin.register(ScimToken)
class ScimTokenAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = ScimTokenForm
    list_display = ("name", "tenant", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("tenant",)
    search_fields = ("name", "prefix", "tenant__slug")
    list_select_related = ("tenant",)
    actions = ["revoke_tokens"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("tenant", "name", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("tenant", "name")
        return ("tenant", "name", "prefix", "created_at", "last_used_at", "revoked_at")

    def has_change_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: audit events name it

    def save_model(self, request, obj, form, change):
        created = scim_token_create(
            tenant=form.cleaned_data["tenant"],
            name=form.cleaned_data["name"],
            by=None,
            actor=_admin_actor(request),
        )
        obj.pk = created.token.pk
        self.message_user(
            request,
            f"The SCIM token (shown this once; give it to the directory): {created.raw}",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected SCIM tokens")
    def revoke_tokens(self, request, queryset):
        actor = _admin_actor(request)
        revoked = sum(
            scim_token_revoke(token=token, actor=actor)
            for token in queryset.filter(revoked_at__isnull=True)
        )
        self.message_user(request, f"Revoked {revoked} SCIM token(s).", messages.SUCCESS)


@admin.register(ScimGroup)
class ScimGroupAdmin(admin.ModelAdmin):
    list_display = ("display_name", "tenant", "external_id", "updated_at")
    list_filter = ("tenant",)
    search_fields = ("display_name", "external_id")
    readonly_fields = ("tenant", "display_name", "external_id", "created_at", "updated_at")
    exclude = ("members",)

    def has_add_permission(self, request):
        return False  # groups come from the directory

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScimAttributeMap)
class ScimAttributeMapAdmin(admin.ModelAdmin):
    list_display = ("tenant", "scim_attribute", "membership_attribute")
    list_filter = ("tenant",)
