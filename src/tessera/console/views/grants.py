"""Object-level grants: the list (filters, keyset pages), granting one, revoking one."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tessera.access.bridge.guard import authorize
from tessera.access.models import Role
from tessera.access.selectors import grant_get, grant_list, role_get
from tessera.access.services.grants import grant_create, grant_delete
from tessera.administration.member_selectors import member_by_email
from tessera.console.forms import errors_onto
from tessera.console.pages import console_of, console_page, done, render_page
from tessera.console.paging import newest_first, next_page_query
from tessera.errors import NotFound, ValidationFailed, field_error
from tessera.tenancy.models import Membership

GRANT_FILTERS = ("permission", "resource_type", "resource_id")


class GrantForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Member (email)"), required=False)
    role = forms.SlugField(label=gettext_lazy("or role (slug)"), required=False)
    permission = forms.CharField(label=gettext_lazy("Permission"), max_length=128)
    resource_type = forms.CharField(label=gettext_lazy("Resource type"), max_length=64)
    resource_id = forms.CharField(label=gettext_lazy("Resource id"), max_length=128)
    expires_at = forms.DateTimeField(
        label=gettext_lazy("Expires (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


def _subject(request: HttpRequest, form: GrantForm) -> tuple[Membership | None, Role | None]:
    tenant = console_of(request).tenant
    email, slug = form.cleaned_data.get("email"), form.cleaned_data.get("role")
    if bool(email) == bool(slug):
        raise ValidationFailed(
            "Invalid subject", errors=[field_error("email", _("Give a member or a role."))]
        )
    if email:
        membership = member_by_email(tenant=tenant, email=email.lower())
        if membership is None:
            raise ValidationFailed(
                "Unknown member", errors=[field_error("email", _("Not a member of this tenant."))]
            )
        return membership, None
    try:
        return None, role_get(tenant=tenant, slug=str(slug))
    except NotFound:
        raise ValidationFailed(
            "Unknown role", errors=[field_error("role", _("No such role in this tenant."))]
        ) from None


@console_page("grant:read")
def grant_index(request: HttpRequest) -> HttpResponse:
    console = console_of(request)
    form = GrantForm(request.POST or None)
    status = 200
    if request.method == "POST":
        authorize(request, "grant:create")
        if form.is_valid():
            try:
                membership, role = _subject(request, form)
                grant_create(
                    tenant=console.tenant,
                    permission=form.cleaned_data["permission"],
                    resource_type=form.cleaned_data["resource_type"],
                    resource_id=form.cleaned_data["resource_id"],
                    membership=membership,
                    role=role,
                    expires_at=form.cleaned_data.get("expires_at"),
                    granted_by=console.membership,
                    actor=console.actor,
                )
            except ValidationFailed as exc:
                errors_onto(form, exc.errors, exc.detail)
            else:
                return done(request, _("Grant created."), reverse("console:grants"))
        status = 422
    qs = grant_list(tenant=console.tenant).select_related(
        "membership__user", "role", "granted_by__user"
    )
    filters = {k: (request.GET.get(k) or "").strip()[:128] for k in GRANT_FILTERS}
    qs = qs.filter(**{k: v for k, v in filters.items() if v})
    grants, following = newest_first(qs, request.GET.get("cursor"))
    return render_page(
        request,
        "console/grants.html",
        {
            "grants": grants,
            "form": form,
            "filters": filters,
            "next_query": next_page_query(request, following),
        },
        status=status,
        section="console:grants",
    )


@require_POST
@console_page("grant:delete")
def grant_revoke(request: HttpRequest, grant_id: str) -> HttpResponse:
    console = console_of(request)
    grant = grant_get(tenant=console.tenant, grant_id=grant_id)
    grant_delete(grant=grant, actor=console.actor)
    return done(request, _("Grant revoked."), reverse("console:grants"))
