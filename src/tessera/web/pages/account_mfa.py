"""/account/mfa/…: the second factor — TOTP enrolment (QR code, then a code; the ten backup codes
are shown once), new backup codes, turning it off. The API's services, the same checks."""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.authn.errors import ReauthenticationRequired
from tessera.authn.flows.mfa_session import (
    backup_codes_regenerate_checked,
    mfa_confirm,
    mfa_disable,
)
from tessera.authn.sessions import session_require_recent_auth
from tessera.errors import TesseraError, ValidationFailed
from tessera.identity.mfa import DEFAULT_ISSUER, totp_setup
from tessera.web.auth import ACCOUNT_PATH, page_actor, page_login_required, page_visitor
from tessera.web.forms import CodeForm, EnrolmentCodeForm, MfaDisableForm
from tessera.web.pages.account import account_refused
from tessera.web.rendering import form_refuse, page_render, retry_after_of

SETUP_TEMPLATE = "web/account/mfa_setup.html"
CODES_TEMPLATE = "web/account/backup_codes.html"


def _svg_data_uri(svg: str) -> str:
    """The QR code as an image the CSP admits (`img-src data:`; no inline SVG styles)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@require_POST
@page_login_required(limited_ok=True)
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Start enrolment: a new secret, shown as a QR code and as text, and the code form."""
    visitor = page_visitor(request)
    try:
        # as the API: a stolen session must not enrol its own authenticator
        session_require_recent_auth(session_id=visitor.principal.session_id)
        found = totp_setup(
            user=visitor.user, issuer=getattr(settings, "MFA_ISSUER", DEFAULT_ISSUER)
        )
    except ReauthenticationRequired as exc:
        return page_render(
            request, "web/account/reauthenticate.html", {"detail": exc.detail}, status=exc.status
        )
    except TesseraError as exc:
        messages.error(request, str(exc.detail))
        return HttpResponseRedirect(ACCOUNT_PATH)
    return page_render(
        request,
        SETUP_TEMPLATE,
        {"qr": _svg_data_uri(found.qr_svg), "secret": found.secret, "form": EnrolmentCodeForm()},
    )


@require_POST
@page_login_required(limited_ok=True)
def mfa_setup_confirm(request: HttpRequest) -> HttpResponse:
    form = EnrolmentCodeForm(request.POST)
    visitor = page_visitor(request)
    if form.is_valid():
        try:
            codes = mfa_confirm(
                user=visitor.user,
                code=form.cleaned_data["code"],
                session_id=visitor.principal.session_id,
                actor=page_actor(request),
                tenant_id=visitor.principal.tenant_id,
            )
        except TesseraError as exc:
            status = form_refuse(form, exc)
            return page_render(
                request,
                SETUP_TEMPLATE,
                {"form": form, "retry": True},
                status=status,
                retry_after=retry_after_of(exc),
            )
        return page_render(request, CODES_TEMPLATE, {"codes": codes, "enrolled": True})
    return page_render(request, SETUP_TEMPLATE, {"form": form, "retry": True}, status=422)


@require_POST
@page_login_required
def mfa_backup_codes(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    visitor = page_visitor(request)
    if not form.is_valid():
        messages.error(request, _("Enter a current code to get new backup codes."))
        return HttpResponseRedirect(ACCOUNT_PATH)
    try:
        codes = backup_codes_regenerate_checked(
            user=visitor.user,
            code=form.cleaned_data["code"],
            actor=page_actor(request),
            tenant_id=visitor.principal.tenant_id,
        )
    except TesseraError as exc:
        messages.error(request, str(exc.detail))
        return account_refused(request, exc)
    return page_render(request, CODES_TEMPLATE, {"codes": codes, "enrolled": False})


@require_POST
@page_login_required
def mfa_turn_off(request: HttpRequest) -> HttpResponse:
    form = MfaDisableForm(request.POST)
    visitor = page_visitor(request)
    if not form.is_valid():
        return account_refused(
            request, ValidationFailed(_("Enter your password and a code.")), mfa_disable_form=form
        )
    try:
        mfa_disable(
            user=visitor.user,
            password=form.cleaned_data["password"],
            code=form.cleaned_data["code"],
            actor=page_actor(request),
            session_id=visitor.principal.session_id,
            membership=visitor.membership,
            tenant=visitor.tenant,
        )
    except TesseraError as exc:
        form_refuse(form, exc)
        return account_refused(request, exc, mfa_disable_form=form)
    messages.success(request, _("Two-step verification is off. Your other sessions have ended."))
    return HttpResponseRedirect(ACCOUNT_PATH)
