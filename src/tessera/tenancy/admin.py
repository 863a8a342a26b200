"""Admin for tenants and memberships.

Writes go through the services the API uses (`tessera.tenancy.services`,
`tessera.administration.members`, `tessera.access.services`) so that built-in roles are created,
versions bumped, credentials revoked and audit events written; inlines here are read-only.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.html import format_html

from tessera.access.admin.mixins import ServiceAdminMixin
from tessera.access.admin.paging import CappedCountPaginator
from tessera.access.models import Role, RoleAssignment
from tessera.access.services.assignments import role_assign, role_unassign
from tessera.administration.member_selectors import member_search_q
from tessera.administration.members import (
    member_create,
    member_deactivate,
    member_reactivate,
    member_remove,
    member_update,
)
from tessera.administration.tenants import tenant_update
from tessera.audit.actors import actor_from_request
from tessera.errors import TesseraError
from tessera.identity.search import search_term
from tessera.tenancy.invitations import invitation_resend, invitation_revoke
from tessera.tenancy.models import Invitation, Membership, MembershipStatus, Tenant
from tessera.tenancy.services import tenant_create


def _own_membership(request, tenant_id):
    """The acting platform administrator's membership in the tenant, for the no-self rule only:
    in the admin site they act with the platform's authority, so the escalation rule (the target
    within the actor's own permissions) does not apply — `platform_authority` says so."""
    membership = Membership.objects.filter(user_id=request.user.pk, tenant_id=tenant_id).first()
    if membership is not None:
        membership.platform_authority = True
    return membership


class TenantMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "tenant"
    extra = 0
    fields = ("user", "status", "department", "job_title", "employee_id")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # members are added on the membership page (invitation, roles, audit)


@admin.register(Tenant)
class TenantAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ("slug", "name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("slug", "name")
    readonly_fields = ("id", "policy_version", "created_at", "updated_at", "access")
    inlines = [TenantMembershipInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        return fields + ["slug"] if obj is not None else fields

    @admin.display(description="access")
    def access(self, tenant):
        if tenant is None or tenant.pk is None:
            return "—"
        return format_html(
            '<a href="{}?tenant={}">permission matrix</a> · '
            '<a href="{}?tenant={}">add a member</a>',
            reverse("admin:access_role_matrix"),
            tenant.slug,
            reverse("admin:tenancy_membership_add"),
            tenant.pk,
        )

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead (is_active): members lose access, sessions end

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if not change:
            created = tenant_create(
                slug=obj.slug, name=obj.name, settings=obj.settings or None, actor=actor
            )
            obj.pk, obj.created_at, obj.updated_at = (
                created.pk,
                created.created_at,
                created.updated_at,
            )
            obj.settings, obj.policy_version = created.settings, created.policy_version
            obj._state.adding = False
            return
        fresh = Tenant.objects.get(pk=obj.pk)
        changes = {n: getattr(obj, n) for n in ("name", "is_active") if n in form.changed_data}
        if "settings" in form.changed_data:
            changes["settings"] = obj.settings
        tenant_update(tenant=fresh, changes=changes, actor=actor)

    def save_formset(self, request, form, formset, change):
        """The members inline is read-only."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class MemberAddForm(forms.ModelForm):
    """A new member: an email and roles. A new identity is active (and invited to choose its
    password); someone else's identity is only invited until they accept."""

    email = forms.EmailField()
    first_name = forms.CharField(required=False)
    last_name = forms.CharField(required=False)
    roles = forms.ModelMultipleChoiceField(
        queryset=Role.objects.select_related("tenant").order_by("tenant__slug", "slug"),
        required=False,
        help_text="Roles of the member's tenant.",
    )

    class Meta:
        model = Membership
        fields = ("tenant", "department", "job_title", "employee_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].label_from_instance = lambda role: f"{role.tenant.slug} · {role.slug}"

    def clean(self):
        data = super().clean()
        tenant = data.get("tenant")
        if tenant is not None and any(r.tenant_id != tenant.pk for r in data.get("roles") or []):
            raise ValidationError({"roles": "Choose roles of the member's tenant."})
        return data


def _pending_invitation(membership) -> Invitation | None:
    return (
        Invitation.objects.filter(
            membership=membership, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("tenant", "membership__user")
        .first()
    )


def _each_invitation(model_admin, request, queryset, act, done: str) -> None:
    """Run `act` (a tessera.tenancy.invitations service) on each selected member's pending
    invitation; refusals become messages."""
    actor = actor_from_request(request)
    count = 0
    for membership in queryset:
        invitation = _pending_invitation(membership)
        if invitation is None:
            continue
        try:
            with transaction.atomic():
                act(invitation, actor)
            count += 1
        except TesseraError as exc:
            model_admin.message_user(request, f"{membership}: {exc.detail}", messages.ERROR)
    model_admin.message_user(request, f"{count} invitation(s) {done}.", messages.SUCCESS)


class MemberChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = (
            "status",
            "department",
            "job_title",
            "employee_id",
            "manager",
            "cost_center",
            "clearance_level",
            "attributes",
            "gdpr_consent_at",
        )


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "membership"
    extra = 1
    fields = ("role", "expires_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "role":
            membership_id = request.resolver_match.kwargs.get("object_id")
            tenant_id = (
                Membership.objects.filter(pk=membership_id)
                .values_list("tenant_id", flat=True)
                .first()
            )
            kwargs["queryset"] = Role.objects.filter(tenant_id=tenant_id).order_by("slug")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Membership)
class MembershipAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "tenant",
        "status",
        "invitation",
        "department",
        "job_title",
        "created_at",
    )
    list_filter = ("status", "tenant", "department")
    actions = ("resend_invitations", "revoke_invitations")
    search_fields = ("user__email", "user__first_name", "user__last_name", "employee_id")
    list_select_related = ("user", "tenant")
    raw_id_fields = ("user", "manager")
    readonly_fields = ("id", "version", "created_at", "updated_at")
    show_full_result_count = False
    paginator = CappedCountPaginator

    def get_search_results(self, request, queryset, search_term_text):
        """The member search of the API (member_search_q: email, or name once accepted), or an
        employee id containing it. A term over the limit finds no one."""
        if not search_term_text:
            return queryset, False
        try:
            term = search_term(search_term_text)
        except TesseraError:
            return queryset.none(), False
        if not term:
            return queryset, False
        return queryset.filter(member_search_q(term) | Q(employee_id__icontains=term)), False

    @admin.display(description="invitation")
    def invitation(self, membership):
        expires = getattr(membership, "invitation_expires_at", None)
        if expires is None:
            return "—"
        return f"pending until {expires:%Y-%m-%d %H:%M} (sent {membership.invitation_sends}×)"

    def get_queryset(self, request):
        """The pending invitation's expiry and send count in the same query as the members."""

        pending = Invitation.objects.filter(
            membership=OuterRef("pk"), accepted_at__isnull=True, revoked_at__isnull=True
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                invitation_expires_at=Subquery(pending.values("expires_at")[:1]),
                invitation_sends=Subquery(pending.values("send_count")[:1]),
            )
        )

    @admin.action(description="Resend the pending invitation (a new link)")
    def resend_invitations(self, request, queryset):
        _each_invitation(
            self,
            request,
            queryset,
            lambda i, actor: invitation_resend(
                invitation=i, by=_own_membership(request, i.tenant_id), actor=actor
            ),
            "resent",
        )

    @admin.action(description="Revoke the pending invitation (an invited member is removed)")
    def revoke_invitations(self, request, queryset):
        _each_invitation(
            self,
            request,
            queryset,
            lambda i, actor: invitation_revoke(invitation=i, actor=actor),
            "revoked",
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MemberChangeForm if obj is not None else MemberAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fields = ["email", "first_name", "last_name", "tenant", "roles", "department"]
            return [(None, {"fields": fields + ["job_title", "employee_id"]})]
        fields = ["user", "tenant", *MemberChangeForm.Meta.fields, *self.readonly_fields]
        return [(None, {"fields": fields})]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user", "tenant"] if obj is not None else []

    def get_inlines(self, request, obj):
        return [RoleAssignmentInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        data = form.cleaned_data
        if not change:
            created = member_create(
                tenant=data["tenant"],
                data={
                    "email": data["email"],
                    "first_name": data.get("first_name") or None,
                    "last_name": data.get("last_name") or None,
                    "roles": [r.slug for r in data.get("roles") or []],
                    "department": data.get("department") or None,
                    "job_title": data.get("job_title") or None,
                    "employee_id": data.get("employee_id") or None,
                },
                by=None,
                actor=actor,
            )
            membership = created.membership
            obj.pk, obj.user = membership.pk, membership.user
            obj.created_at, obj.updated_at = membership.created_at, membership.updated_at
            obj._state.adding = False
            return
        fresh = Membership.objects.select_related("user", "tenant").get(pk=obj.pk)
        by = _own_membership(request, fresh.tenant_id)
        changed = [n for n in form.changed_data if n != "status"]
        if changed:
            updates = {n: data[n] for n in changed if n != "manager"}
            if "manager" in changed:
                updates["manager_id"] = str(data["manager"].user_id) if data["manager"] else None
            member_update(membership=fresh, changes=updates, by=by, actor=actor)
        if "status" in form.changed_data:
            if data["status"] == MembershipStatus.SUSPENDED:
                member_deactivate(membership=fresh, by=by, actor=actor)
            elif data["status"] == MembershipStatus.ACTIVE:
                member_reactivate(membership=fresh, by=by, actor=actor)

    def save_formset(self, request, form, formset, change):
        """Role assignments through `role_assign` / `role_unassign` (capacity, last admin)."""

        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

        actor = actor_from_request(request)
        membership = Membership.objects.get(pk=form.instance.pk)
        with transaction.atomic():
            for inline in formset.forms:
                data = getattr(inline, "cleaned_data", None)
                if not data:
                    continue
                existing = None if inline.instance._state.adding else inline.instance
                if data.get("DELETE") and existing is not None:
                    role_unassign(membership=membership, role=existing.role, actor=actor)
                elif data.get("role") is not None and (existing is None or inline.has_changed()):
                    if existing is not None:  # the form already holds the new values
                        previous = RoleAssignment.objects.select_related("role").get(pk=existing.pk)
                        if previous.role_id != data["role"].pk:
                            role_unassign(membership=membership, role=previous.role, actor=actor)
                    role_assign(
                        membership=membership,
                        role=data["role"],
                        expires_at=data.get("expires_at"),
                        actor=actor,
                    )

    def delete_model(self, request, obj):
        member_remove(
            membership=obj,
            by=_own_membership(request, obj.tenant_id),
            actor=actor_from_request(request),
        )

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for membership in queryset.select_related("user"):
                self.delete_model(request, membership)
