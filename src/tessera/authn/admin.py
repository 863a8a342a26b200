"""Admin for sessions: listed with their device and state, revoked through the authn service."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone

from tessera.access.admin.mixins import ServiceAdminMixin
from tessera.audit.actors import actor_from_request
from tessera.authn.models import Session
from tessera.authn.sessions import session_revoke


class LiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("live", "live"), ("revoked", "revoked"), ("expired", "expired"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(
                revoked_at__isnull=True, expires_at__gt=now, absolute_expires_at__gt=now
            )
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(Session)
class SessionAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "tenant",
        "state",
        "auth_method",
        "ip",
        "short_user_agent",
        "created_at",
        "last_activity_at",
    )
    list_filter = (LiveFilter, "auth_method", "tenant")
    search_fields = ("user__email", "ip", "user_agent")
    list_select_related = ("user", "tenant")
    ordering = ("-created_at",)
    actions = ["revoke_sessions"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Session._meta.fields] + ["state"]

    def has_add_permission(self, request):
        return False  # sessions come from logins only

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted (cleanup removes old ones)

    @admin.display(description="state")
    def state(self, session):
        if session.revoked_at is not None:
            return f"revoked ({session.revoked_reason or '—'})"
        now = timezone.now()
        if now >= session.expires_at or now >= session.absolute_expires_at:
            return "expired"
        return "live"

    @admin.display(description="user agent")
    def short_user_agent(self, session):
        agent = session.user_agent or ""
        return agent if len(agent) <= 60 else agent[:57] + "…"

    @admin.action(description="Revoke the selected sessions")
    def revoke_sessions(self, request, queryset):
        actor = actor_from_request(request)
        revoked = 0
        with transaction.atomic():
            for session in queryset.filter(revoked_at__isnull=True):
                revoked += session_revoke(session=session, reason="admin_revoked", actor=actor)
        self.message_user(request, f"Revoked {revoked} session(s).", messages.SUCCESS)
