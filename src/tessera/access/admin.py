"""Admin for roles (with a readable permission matrix), assignments, grants and delegations.

Every change goes through `tessera.access.services`, exactly as the API's do, so that policy
versions are bumped and audit events written: the admin never saves these models itself. The
acting platform administrator is recorded as the actor; the tenant guard rails that concern
the *last administrator* and role capacity apply here too.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from tessera.access.models import (
    Delegation,
    DelegationStatus,
    Grant,
    Permission,
    Role,
    RoleAssignment,
    RoleRule,
)
from tessera.access.services import (
    ADMIN_ROLE,
    delegation_create,
    delegation_revoke,
    grant_create,
    grant_delete,
    parents_validate,
    permission_create,
    role_assign,
    role_create,
    role_delete,
    role_effective_rules,
    role_unassign,
    role_update,
    rules_validate,
)
from tessera.api.context import actor_from_request
from tessera.errors import TesseraError
from tessera.tenancy.models import Tenant

ACTION_ORDER = ("*", "create", "read", "update", "delete")


def _problem_text(exc: TesseraError) -> str:
    details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors or [])
    return f"{exc.detail} ({details})" if details else exc.detail


def _as_validation_error(exc: TesseraError) -> ValidationError:
    return ValidationError(_problem_text(exc))


if TYPE_CHECKING:  # the mixin's methods are a ModelAdmin's (mixed into one)
    _ModelAdminBase = admin.ModelAdmin
else:
    _ModelAdminBase = object


class ServiceAdminMixin(_ModelAdminBase):
    """Shows a service's refusal (a guard rail, a conflict) as an error message instead of a
    500; the admin's transaction has rolled back, so nothing of the attempt was written."""

    def _refused(self, request, exc: TesseraError):
        self.message_user(request, _problem_text(exc), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except TesseraError as exc:
            return self._refused(request, exc)

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except TesseraError as exc:
            return self._refused(request, exc)

    def changelist_view(self, request, *args, **kwargs):
        try:
            return super().changelist_view(request, *args, **kwargs)
        except TesseraError as exc:
            return self._refused(request, exc)


# --- the permission matrix ----------------------------------------------------------------------


def _cell(entries: list[dict]) -> str:
    parts = []
    for rule in entries:
        mark = "✓" if rule["effect"] == "allow" else "✗"
        text = f"{mark} {rule['scope']}"
        if rule.get("condition"):
            text += " (if…)"
        if rule.get("fields"):
            text += " (fields)"
        parts.append(text)
    return ", ".join(parts)


def permission_matrix(rules: list[dict]):
    """An HTML table: one row per resource, one column per action, cells ✓/✗ with scope."""
    grid: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for rule in rules:
        resource, _, action = rule["permission"].partition(":")
        grid[resource][action].append(rule)
    if not grid:
        return "—"
    actions = sorted(
        {a for row in grid.values() for a in row},
        key=lambda a: (ACTION_ORDER.index(a) if a in ACTION_ORDER else len(ACTION_ORDER), a),
    )
    head = format_html_join("", "<th>{}</th>", ((a,) for a in actions))
    body = format_html_join(
        "",
        "<tr><th>{}</th>{}</tr>",
        (
            (
                resource,
                format_html_join(
                    "", "<td>{}</td>", ((_cell(grid[resource].get(a, [])),) for a in actions)
                ),
            )
            for resource in sorted(grid, key=lambda r: (r != "*", r))
        ),
    )
    return format_html(
        '<table class="tessera-matrix"><thead><tr><th>resource</th>{}</tr></thead>'
        "<tbody>{}</tbody></table>",
        head,
        body,
    )


# --- roles --------------------------------------------------------------------------------------


class RoleRuleFormSet(forms.BaseInlineFormSet):
    """The role's rules, validated as the API validates them (conditions compiled)."""

    def rules(self) -> list[dict]:
        kept = []
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            if form.instance._state.adding and not form.has_changed():
                continue
            kept.append(
                (
                    data.get("position") or 0,
                    index,
                    {
                        "effect": data["effect"],
                        "permission": data["permission"],
                        "scope": data["scope"],
                        "condition": data.get("condition") or None,
                        "fields": data.get("fields") or {},
                    },
                )
            )
        return [rule for _, _, rule in sorted(kept, key=lambda k: k[:2])]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            rules_validate(self.rules())
        except TesseraError as exc:
            raise _as_validation_error(exc) from None
        role = self.instance
        if role.pk and role.is_system and role.slug == ADMIN_ROLE and self.has_changed():
            raise ValidationError("The built-in admin role's rules cannot be changed.")


class RoleRuleInline(admin.TabularInline):
    model = RoleRule
    formset = RoleRuleFormSet
    extra = 1
    fields = ("position", "effect", "permission", "scope", "condition", "fields")
    ordering = ("position", "id")


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ("tenant", "slug", "name", "description", "parents", "max_members", "ui_config")

    def clean(self):
        data = super().clean()
        tenant = data.get("tenant") or getattr(self.instance, "tenant", None)
        parents = data.get("parents")
        if tenant is None or parents is None:
            return data
        if any(p.tenant_id != tenant.pk for p in parents):
            raise ValidationError({"parents": "Parents must be roles of the same tenant."})
        role = self.instance if self.instance.pk else None
        if role is not None and role.is_system and role.slug == ADMIN_ROLE:
            if "parents" in self.changed_data:
                raise ValidationError({"parents": "The built-in admin role has no parents."})
        try:
            parents_validate(tenant=tenant, slugs=[p.slug for p in parents], role=role)
        except TesseraError as exc:
            raise ValidationError({"parents": _problem_text(exc)}) from None
        return data


@admin.register(Role)
class RoleAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = RoleForm
    list_display = (
        "slug",
        "name",
        "tenant",
        "is_system",
        "max_members",
        "holders",
        "rules_summary",
    )
    list_filter = ("is_system", "tenant")
    search_fields = ("slug", "name", "tenant__slug")
    list_select_related = ("tenant",)
    readonly_fields = (
        "is_system",
        "permission_matrix",
        "tenant_matrix",
        "created_at",
        "updated_at",
    )
    filter_horizontal = ("parents",)
    inlines = [RoleRuleInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("rules")
            .annotate(holder_count=Count("assignments", distinct=True))
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields += ["tenant", "slug"]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "parents" in form.base_fields:
            form.base_fields["parents"].queryset = Role.objects.filter(tenant=obj.tenant).exclude(
                pk=obj.pk
            )
        return form

    @admin.display(description="holders", ordering="holder_count")
    def holders(self, role):
        return getattr(role, "holder_count", None)

    @admin.display(description="rules")
    def rules_summary(self, role):
        rules = sorted(role.rules.all(), key=lambda r: (r.position, r.pk))
        shown = [("−" if r.effect == "deny" else "") + r.permission for r in rules[:6]]
        more = f" (+{len(rules) - 6})" if len(rules) > 6 else ""
        return ", ".join(shown) + more

    @admin.display(description="permission matrix (own and inherited rules)")
    def permission_matrix(self, role):
        if role is None or role.pk is None:
            return "—"
        return permission_matrix(role_effective_rules(role))

    @admin.display(description="all roles of the tenant")
    def tenant_matrix(self, role):
        if role is None or role.pk is None:
            return "—"
        url = reverse("admin:access_role_matrix") + f"?tenant={role.tenant.slug}"
        return format_html('<a href="{}">permission matrix of {}</a>', url, role.tenant.slug)

    # -- writes through the services --

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        data = form.cleaned_data
        if not change:
            created = role_create(
                tenant=data["tenant"],
                slug=data["slug"],
                name=data["name"],
                description=data.get("description") or "",
                max_members=data.get("max_members"),
                ui_config=data.get("ui_config") or {},
                actor=actor,
            )
            obj.pk, obj.created_at, obj.updated_at = (
                created.pk,
                created.created_at,
                created.updated_at,
            )
            obj.slug = created.slug
            obj._state.adding = False
            return
        # applied with the rules and parents in save_related: one update, one audit event
        obj._admin_changes = {
            name: data.get(name)
            for name in ("name", "description", "max_members", "ui_config")
            if name in form.changed_data
        }

    def save_formset(self, request, form, formset, change):
        """Rules are written by `role_update` in save_related, never by the formset."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_related(self, request, form, formsets, change):
        role = Role.objects.get(pk=form.instance.pk)
        changes = dict(getattr(form.instance, "_admin_changes", {}))
        for formset in formsets:
            self.save_formset(request, form, formset, change)
            if formset.model is RoleRule and formset.has_changed():
                changes["rules"] = formset.rules()
        if "parents" in form.changed_data:
            changes["parents"] = [p.slug for p in form.cleaned_data["parents"]]
        if changes:
            role_update(role=role, actor=actor_from_request(request), **changes)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        role_delete(role=obj, actor=actor_from_request(request))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for role in queryset:
                role_delete(role=role, actor=actor_from_request(request))

    # -- the tenant-wide matrix --

    def get_urls(self):
        extra = [
            path(
                "matrix/",
                self.admin_site.admin_view(self.matrix_view),
                name="access_role_matrix",
            )
        ]
        return extra + super().get_urls()

    def matrix_view(self, request):
        """Roles as columns, permissions as rows: who may do what in one tenant."""
        hint = request.GET.get("tenant", "")
        tenant = Tenant.objects.filter(slug=hint).first()
        roles = list(
            Role.objects.filter(tenant=tenant).prefetch_related("parents").order_by("slug")
            if tenant
            else []
        )
        rules_by_role = {role.slug: role_effective_rules(role) for role in roles}
        permissions = sorted({r["permission"] for rules in rules_by_role.values() for r in rules})
        rows = [
            (
                permission,
                [
                    _cell([r for r in rules_by_role[role.slug] if r["permission"] == permission])
                    for role in roles
                ],
            )
            for permission in permissions
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Permission matrix of {tenant.slug}" if tenant else "Permission matrix",
            "opts": self.model._meta,
            "tenant": tenant,
            "tenants": Tenant.objects.order_by("slug"),
            "roles": roles,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/access/role/matrix.html", context)


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
