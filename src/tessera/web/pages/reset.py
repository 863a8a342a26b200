"""/reset/: ask for a password-reset link; /reset/?token=…: choose the new password (the link
tessera.identity.mailer sends). The API's services: the request answers the same whether or not
the address has an account (its work runs after the answer, tessera.authn.deferred), the token is
single use for an hour, the tenant's password policy applies, every session ends."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from tessera.authn.deferred import defer
from tessera.authn.passwords import password_reset_confirm, password_reset_request
from tessera.errors import TesseraError
from tessera.web.auth import page_actor
from tessera.web.forms import EmailForm, TwoPasswordsForm
from tessera.web.rendering import form_refuse, page_render

MAX_TOKEN = 512


@require_http_methods(["GET", "POST"])
def reset(request: HttpRequest) -> HttpResponse:
    token = (request.POST.get("token") or request.GET.get("token") or "")[:MAX_TOKEN]
    if token:
        return _choose_password(request, token)
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        defer(
            request,
            password_reset_request,
            email=form.cleaned_data["email"],
            actor=page_actor(request),
        )
        return page_render(request, "web/reset/sent.html")
    status = 400 if request.method == "POST" else 200
    return page_render(request, "web/reset/request.html", {"form": form}, status=status)


def _choose_password(request: HttpRequest, token: str) -> HttpResponse:
    form = TwoPasswordsForm(request.POST or None)
    context = {"form": form, "token": token}
    if request.method != "POST":
        return page_render(request, "web/reset/confirm.html", context)
    if not form.is_valid():
        return page_render(request, "web/reset/confirm.html", context, status=422)
    try:
        password_reset_confirm(
            token=token, new_password=form.cleaned_data["new_password"], actor=page_actor(request)
        )
    except TesseraError as exc:
        status = form_refuse(form, exc)
        return page_render(request, "web/reset/confirm.html", context, status=status)
    return page_render(request, "web/reset/done.html")
