"""/account/api-keys/…: the person's own API keys in the current tenant — create (within what
they hold: the API's `scopes_not_held` check; the whole key shown once) and revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.access.bridge.guard import authorize
from tessera.authn.api_keys import api_key_create, api_key_revoke
from tessera.authn.selectors import api_key_get
from tessera.errors import NotFound, TesseraError
from tessera.web.auth import ACCOUNT_PATH, page_actor, page_login_required, page_visitor
from tessera.web.forms import ApiKeyForm
from tessera.web.pages.account import TEMPLATE, account_context, account_refused
from tessera.web.rendering import form_refuse, page_render


@require_POST
@page_login_required
def api_key_new(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    visitor = page_visitor(request)
    try:
        authorize(request, "api_key:create")  # no tenant, or not allowed: refused as in the API
        if not form.is_valid():
            return page_render(
                request, TEMPLATE, account_context(request, api_key_form=form), status=422
            )
        created = api_key_create(
            owner=visitor.membership,
            by=visitor.membership,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            allowed_ips=form.cleaned_data["allowed_ips"],
            expires_at=form.cleaned_data["expires_at"],
            actor=page_actor(request),
        )
    except TesseraError as exc:
        form_refuse(form, exc)
        return account_refused(request, exc, api_key_form=form)
    return page_render(
        request, "web/account/api_key_created.html", {"key": created.key, "raw": created.raw}
    )


@require_POST
@page_login_required
def api_key_revoke_own(request: HttpRequest, key_id: str) -> HttpResponse:
    visitor = page_visitor(request)
    key = api_key_get(tenant=visitor.tenant, key_id=key_id) if visitor.tenant is not None else None
    if key is None or key.membership_id != visitor.membership.pk:
        exc = NotFound(_("No such API key."))
        messages.error(request, str(exc.detail))
        return account_refused(request, exc)
    api_key_revoke(key=key, actor=page_actor(request))
    messages.success(request, _("The API key was revoked."))
    return HttpResponseRedirect(ACCOUNT_PATH)
