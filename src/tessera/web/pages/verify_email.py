"""/verify-email/?token=…: prove an email address (the link tessera.identity.mailer sends).

GET shows what will happen (mail scanners open links: nothing is spent on GET); the button calls
identity.email_verify_confirm — the API's. When a tenant manages the account, the person chooses
a password that replaces any the tenant may know (the tenant's policy), and every earlier
credential ends; the account becomes the person's own."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from tessera.authn.verification import email_verification_preview, email_verify_confirm
from tessera.errors import TesseraError
from tessera.web.auth import page_actor
from tessera.web.forms import TwoPasswordsForm
from tessera.web.rendering import form_refuse, page_render

MAX_TOKEN = 512
TEMPLATE = "web/verify_email/confirm.html"


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest) -> HttpResponse:
    token = (request.POST.get("token") or request.GET.get("token") or "")[:MAX_TOKEN]
    try:
        managed = email_verification_preview(token=token)
    except TesseraError as exc:
        return page_render(
            request, "web/verify_email/invalid.html", {"detail": exc.detail}, status=exc.status
        )
    form = TwoPasswordsForm(request.POST or None) if managed else None
    context = {"form": form, "token": token, "managed": managed}
    if request.method != "POST":
        return page_render(request, TEMPLATE, context)
    if form is not None and not form.is_valid():
        return page_render(request, TEMPLATE, context, status=422)
    try:
        user = email_verify_confirm(
            token=token,
            password=form.cleaned_data["new_password"] if form is not None else None,
            actor=page_actor(request),
        )
    except TesseraError as exc:
        if form is None:
            return page_render(
                request, "web/verify_email/invalid.html", {"detail": exc.detail}, status=exc.status
            )
        status = form_refuse(form, exc, fields={"password": "new_password"})
        return page_render(request, TEMPLATE, context, status=status)
    return page_render(request, "web/verify_email/done.html", {"email": user.email})
