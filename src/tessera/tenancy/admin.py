"""Admin for tenants and memberships."""

from django.contrib import admin

from tessera.tenancy.models import Membership, Tenant


class TenantMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "tenant"
    extra = 0
    fields = ("user", "status", "department", "job_title", "employee_id")
    raw_id_fields = ("user",)
    show_change_link = True


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("slug", "name")
    readonly_fields = ("id", "policy_version", "created_at", "updated_at")
    inlines = [TenantMembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "status", "department", "job_title", "created_at")
    list_filter = ("status", "tenant", "department")
    search_fields = ("user__email", "user__first_name", "user__last_name", "employee_id")
    list_select_related = ("user", "tenant")
    raw_id_fields = ("user", "manager")
    readonly_fields = ("id", "version", "created_at", "updated_at")
    show_full_result_count = False
