"""Roles with their permission matrix (roles × permissions, inherited rules shown)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from tessera.console.matrix import permission_matrix
from tessera.console.pages import console_of, console_page, render_page


@console_page("role:read")
def role_index(request: HttpRequest) -> HttpResponse:
    matrix = permission_matrix(tenant=console_of(request).tenant)
    return render_page(request, "console/roles.html", {"matrix": matrix}, section="console:roles")
