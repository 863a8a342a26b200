"""Tenant settings: password, lockout, sessions, MFA, delegation and invitation policies.

Everyone allowed `tenant:read` sees them; only `tenant:update` gets a form (and a forced post
without it is refused). Saving goes through `tenant_update`, as the API's PATCH does: merged,
validated against the schema, audited (TENANT_UPDATED with before and after).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from tessera.access.bridge.guard import authorize
from tessera.access.selectors import role_list
from tessera.administration.tenants import tenant_update
from tessera.console.forms import errors_onto
from tessera.console.pages import console_of, console_page, done, render_page
from tessera.console.settings_form import TenantSettingsForm
from tessera.errors import ValidationFailed


@console_page("tenant:read")
def settings_page(request: HttpRequest) -> HttpResponse:
    console = console_of(request)
    tenant = console.tenant
    slugs = list(role_list(tenant=tenant).values_list("slug", flat=True))
    data = None
    if request.method == "POST":
        authorize(request, "tenant:update")
        data = request.POST
    form = TenantSettingsForm(data, current=tenant.settings or {}, role_slugs=slugs)
    status = 200
    if data is not None:
        if form.is_valid():
            try:
                with transaction.atomic():
                    tenant_update(
                        tenant=tenant, changes={"settings": form.patch()}, actor=console.actor
                    )
            except ValidationFailed as exc:
                errors_onto(form, exc.errors, exc.detail)
            else:
                return done(request, _("Settings saved."), reverse("console:settings"))
        status = 422
    return render_page(
        request,
        "console/settings.html",
        {"form": form, "editable": console.can["tenant_update"]},
        status=status,
        section="console:settings",
    )
