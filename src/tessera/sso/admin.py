"""Admin for identity providers: registered and changed through tessera.sso.providers (the
secret sealed, the preset applied, audited), the client secret write-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from tessera.access.admin.mixins import ServiceAdminMixin
from tessera.audit.actors import actor_from_request
from tessera.sso.models import ExternalIdentity, IdentityProvider
from tessera.sso.providers import provider_create, provider_delete, provider_update

FORM_FIELDS = (
    "tenant",
    "kind",
    "name",
    "issuer",
    "discovery_url",
    "client_id",
    "jit",
    "enabled",
    "claim_mapping",
    "group_claim",
    "group_prefix",
    "return_origins",
    "hosted_domain",
)


class IdentityProviderForm(forms.ModelForm):
    client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: sealed at rest, never shown. Leave empty to keep the current one.",
    )
    discovery_url = forms.CharField(required=False, max_length=500)
    scopes_text = forms.CharField(
        required=False, label="scopes", help_text="Space-separated; empty: the kind's preset."
    )

    class Meta:
        model = IdentityProvider
        fields = FORM_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issuer"].required = False
        if self.instance.pk:
            self.fields["scopes_text"].initial = " ".join(self.instance.scopes or [])

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in FORM_FIELDS if name != "tenant"}
        if not data.get("issuer"):
            data.pop("issuer")
        scopes = (self.cleaned_data.get("scopes_text") or "").split()
        if scopes:
            data["scopes"] = scopes
        if self.cleaned_data.get("client_secret"):
            data["client_secret"] = self.cleaned_data["client_secret"]
        return data


@admin.register(IdentityProvider)
class IdentityProviderAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = IdentityProviderForm
    list_display = ("name", "kind", "tenant", "issuer", "enabled", "jit", "created_at")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "issuer", "tenant__slug")
    readonly_fields = ("id", "client_secret_set", "created_at", "updated_at")

    @admin.display(boolean=True, description="client secret set")
    def client_secret_set(self, provider: IdentityProvider) -> bool:
        return bool(provider.client_secret_sealed)

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        return [*fields, "tenant", "kind"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        data = form.service_data()
        if change:
            fresh = IdentityProvider.objects.select_related("tenant").get(pk=obj.pk)
            data.pop("kind", None)
            provider_update(provider=fresh, data=data, actor=actor)
            return
        created = provider_create(tenant=obj.tenant, data=data, actor=actor)
        obj.pk = created.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        provider_delete(provider=obj, actor=actor_from_request(request))

    def get_actions(self, request):
        return {}  # bulk delete would skip the service (and its audit event)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ("subject", "issuer", "user", "created_at", "last_login_at")
    search_fields = ("subject", "issuer", "user__email")
    readonly_fields = [f.name for f in ExternalIdentity._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
