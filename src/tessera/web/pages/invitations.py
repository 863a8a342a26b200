"""/invitations/accept/?token=…: accept an invitation (the link tessera.identity.mailer sends).

The invitation is shown first (nothing changes on GET: mail scanners open links). Accepting calls
tenancy.invitation_accept — the API's: a never-verified account chooses its password (the
tenant's policy), a verified one enters its current password (under the lockout); the tenant's
MFA policy applies as at sign-in. Then the person is signed in and lands on their account page.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from tessera.administration.invitation_accept import invitation_accept, invitation_preview
from tessera.authn.flows.login import LoginPending
from tessera.errors import TesseraError
from tessera.web.auth import ACCOUNT_PATH, page_actor, visitor_of
from tessera.web.forms import InvitationAcceptForm, TwoPasswordsForm
from tessera.web.pages.signin import finish_sign_in, start_mfa_step
from tessera.web.rendering import form_refuse, page_render, retry_after_of

MAX_TOKEN = 512
TEMPLATE = "web/invitations/accept.html"


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest) -> HttpResponse:
    token = (request.POST.get("token") or request.GET.get("token") or "")[:MAX_TOKEN]
    try:
        preview = invitation_preview(token=token)
    except TesseraError as exc:
        return page_render(
            request, "web/invitations/invalid.html", {"detail": exc.detail}, status=exc.status
        )
    form = (
        TwoPasswordsForm(request.POST or None)
        if preview.new_password_needed
        else InvitationAcceptForm(request.POST or None)
    )
    if not preview.new_password_needed:
        form.fields["password"].label = _("Your current password")
    context = {"form": form, "token": token, "invitation": preview}
    if request.method != "POST":
        return page_render(request, TEMPLATE, context)
    if not form.is_valid():
        return page_render(request, TEMPLATE, context, status=422)
    visitor = visitor_of(request)
    password = form.cleaned_data.get("new_password") or form.cleaned_data.get("password")
    try:
        outcome = invitation_accept(
            token=token,
            password=password,
            signed_in_user_id=visitor.principal.user_id if visitor is not None else None,
            actor=page_actor(request),
            purpose="web",
        )
    except TesseraError as exc:
        status = form_refuse(form, exc, fields={"password": _password_field(form)})
        return page_render(
            request, TEMPLATE, context, status=status, retry_after=retry_after_of(exc)
        )
    if isinstance(outcome, LoginPending):
        return start_mfa_step(request, outcome, next_url=ACCOUNT_PATH)
    return finish_sign_in(request, outcome, next_url=ACCOUNT_PATH)


def _password_field(form: forms.Form) -> str:
    return "new_password" if "new_password" in form.fields else "password"
