"""The admin site: platform administrators only, signed in through Tessera's login flow
(tessera.admin_login): lockout, MFA step, audit, a revocable Tessera session with the platform's
idle and absolute limits. Its app configuration is `tessera.admin_apps`."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from tessera.admin_login import (
    admin_login_view,
    admin_mfa_view,
    admin_password_change_view,
    admin_session_end,
    admin_session_live,
)


class TesseraAdminSite(AdminSite):
    site_header = "Tessera administration"
    site_title = "Tessera"
    index_title = "Identities, tenants and access"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active
            and getattr(user, "is_platform_admin", False)
            and admin_session_live(request)
        )

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    @login_not_required
    def login(self, request, extra_context=None):
        return admin_login_view(request, self)

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    @login_not_required
    def mfa(self, request):
        return admin_mfa_view(request, self)

    def password_change(self, request, extra_context=None):
        # (wrapped by admin_view in get_urls: platform administrators with a live session only)
        return admin_password_change_view(request, self)

    def logout(self, request, extra_context=None):
        if request.method == "POST":
            admin_session_end(request)
        return super().logout(request, extra_context)

    def get_urls(self):
        return [path("login/mfa/", self.mfa, name="tessera_mfa"), *super().get_urls()]
