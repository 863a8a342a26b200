"""The console's front page: the tenant at a glance and the sections the caller may open."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from tessera.administration.member_selectors import member_filter
from tessera.console.pages import console_of, console_page, render_page
from tessera.tenancy.models import MembershipStatus


@console_page()
def console_home(request: HttpRequest) -> HttpResponse:
    console = console_of(request)
    counts = {}
    if console.can["user_read"]:
        counts = {
            status: member_filter(tenant=console.tenant, status=status).count()
            for status in MembershipStatus.values
        }
    return render_page(request, "console/home.html", {"counts": counts})
