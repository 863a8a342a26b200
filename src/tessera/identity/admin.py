"""Admin for global identities."""

from django.contrib import admin
from django.db import models, transaction

from tessera.access.admin.mixins import ServiceAdminMixin
from tessera.access.admin.paging import CappedCountPaginator
from tessera.audit.actors import actor_from_request
from tessera.audit.models import AuditEventType
from tessera.audit.services import audit_record
from tessera.authn.sessions import sessions_revoke_for_user
from tessera.errors import Conflict, TesseraError
from tessera.identity.models import User
from tessera.identity.search import search_term, user_matches
from tessera.identity.services import user_create
from tessera.tenancy.models import Membership


class MembershipInline(admin.TabularInline):
    """Read-only: memberships are added and changed on their own page (through the services)."""

    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("tenant", "status", "department", "job_title", "employee_id")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = (
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_platform_admin",
        "last_login",
        "created_at",
    )
    list_filter = ("is_active", "is_platform_admin", "is_service_account")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    readonly_fields = (
        "id",
        "created_at",
        "updated_at",
        "last_login",
        "last_activity_at",
        "password_changed_at",
        # ownership changes only through its flows (invitation, verification): docs/identities.md
        "managed_by_tenant",
        "email_verified_at",
    )
    exclude = ("password",)
    inlines = [MembershipInline]
    list_per_page = 50
    show_full_result_count = False
    paginator = CappedCountPaginator
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_search_results(self, request, queryset, search_term_text):
        """The people search of the API (tessera.identity.search): the same matches, and the
        query shape the trigram indexes serve. A term over the limit finds no one."""
        if not search_term_text:
            return queryset, False
        try:
            term = search_term(search_term_text)
        except TesseraError:
            return queryset.none(), False
        return (queryset.filter(user_matches(term)) if term else queryset), False

    def save_model(self, request, obj, form, change):
        """New identities through `user_create` (unusable password until set); changes are
        audited, and deactivating a person ends every session of theirs at once."""

        actor = actor_from_request(request)
        if not change:
            fields = ("first_name", "last_name", "phone", "is_platform_admin", "is_service_account")
            created = user_create(
                email=obj.email, **{n: getattr(obj, n) for n in fields if n in form.cleaned_data}
            )
            obj.pk, obj.password = created.pk, created.password
            obj.created_at, obj.updated_at = created.created_at, created.updated_at
            obj._state.adding = False
            return
        before = User.objects.get(pk=obj.pk)
        changed = [n for n in form.changed_data if n in {f.name for f in User._meta.fields}]
        if obj.pk == request.user.pk and ("is_active" in changed or "is_platform_admin" in changed):
            raise Conflict("You cannot deactivate yourself or drop your own platform role")
        with transaction.atomic():
            obj.save()
            if changed:
                audit_record(
                    type=AuditEventType.USER_DEACTIVATED
                    if "is_active" in changed and not obj.is_active
                    else AuditEventType.PROFILE_UPDATE,
                    actor=actor,
                    resource_type="user",
                    resource_id=obj.pk,
                    changes={
                        "before": {n: str(getattr(before, n)) for n in changed},
                        "after": {n: str(getattr(obj, n)) for n in changed},
                    },
                )
            if "is_active" in changed and not obj.is_active:
                sessions_revoke_for_user(user=obj, reason="user_deactivated", actor=actor)

    def save_formset(self, request, form, formset, change):
        """The memberships inline is read-only."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
