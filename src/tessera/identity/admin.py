"""Admin for global identities."""

from django.contrib import admin

from tessera.identity.models import User
from tessera.tenancy.models import Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("tenant", "status", "department", "job_title", "employee_id")
    autocomplete_fields = ("tenant",)
    show_change_link = True


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
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
    )
    exclude = ("password",)
    inlines = [MembershipInline]
    list_per_page = 50
    show_full_result_count = False
