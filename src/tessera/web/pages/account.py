"""/account/: the person's own page — profile, password, second factor, trusted devices,
sessions and API keys (each section's actions in account_mfa, account_security, account_keys).

A session that must first change its password sees only the password form; one whose tenant
requires a second factor it has not set up sees only the enrolment (as the API allows only those
calls to such sessions).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tessera.access.bridge.guard import is_allowed
from tessera.authn.deferred import defer
from tessera.authn.devices import devices_live_for_user
from tessera.authn.flows.mfa import mfa_required_for
from tessera.authn.passwords import password_change
from tessera.authn.selectors import api_key_list, memberships_with_roles, sessions_live_for_user
from tessera.authn.verification import email_verify_request
from tessera.errors import TesseraError
from tessera.identity.mfa import mfa_status
from tessera.identity.profile import profile_update_own
from tessera.web.auth import (
    ACCOUNT_PATH,
    page_actor,
    page_client_ip,
    page_login_required,
    page_visitor,
)
from tessera.web.forms import ApiKeyForm, MfaDisableForm, PasswordChangeForm, ProfileForm
from tessera.web.rendering import form_refuse, page_render, retry_after_of

LIST_LIMIT = 50
TEMPLATE = "web/account/index.html"


def _languages(current: str) -> list[tuple[str, str]]:
    choices = [(code, str(name)) for code, name in settings.LANGUAGES]
    if current and current not in dict(choices):
        choices.append((current, current))
    return choices


def profile_form(request: HttpRequest, data: Any = None) -> ProfileForm:
    user = page_visitor(request).user
    initial = {name: getattr(user, name) for name in ProfileForm.base_fields}
    return ProfileForm(data, initial=initial, languages=_languages(user.language))


def account_context(request: HttpRequest, **forms: Any) -> dict[str, Any]:
    """Everything the account page shows; `forms` replace the blank ones (a refused POST)."""
    visitor = page_visitor(request)
    user_id = visitor.principal.user_id
    now = timezone.now()
    membership = visitor.membership
    keys_readable = membership is not None and is_allowed(request, "api_key:read")
    return {
        "nav": "account",
        "limited_to": visitor.limited_to,
        "profile_form": forms.get("profile_form") or profile_form(request),
        "password_form": forms.get("password_form") or PasswordChangeForm(),
        "mfa": mfa_status(user_id=user_id),
        "mfa_required": mfa_required_for(membership=membership, tenant=visitor.tenant),
        "mfa_disable_form": forms.get("mfa_disable_form") or MfaDisableForm(),
        "devices": devices_live_for_user(user_id=user_id, now=now),
        "sessions": sessions_live_for_user(user_id=user_id, now=now, limit=LIST_LIMIT),
        "current_session_id": str(visitor.principal.session_id),
        "memberships": memberships_with_roles(user_id=user_id, now=now),
        "api_keys": api_key_list(
            tenant=visitor.tenant, membership_ids=[membership.pk], limit=LIST_LIMIT
        )
        if keys_readable
        else [],
        "api_keys_readable": keys_readable,
        "api_key_creatable": membership is not None and is_allowed(request, "api_key:create"),
        "api_key_form": forms.get("api_key_form") or ApiKeyForm(),
    }


def account_refused(request: HttpRequest, exc: TesseraError, **forms: Any) -> HttpResponse:
    """The account page again, with the refusal shown where it belongs."""
    return page_render(
        request,
        TEMPLATE,
        account_context(request, **forms),
        status=exc.status,
        retry_after=retry_after_of(exc),
    )


@require_GET
@page_login_required(limited_ok=True)
def account(request: HttpRequest) -> HttpResponse:
    return page_render(request, TEMPLATE, account_context(request))


@require_POST
@page_login_required
def account_profile(request: HttpRequest) -> HttpResponse:
    form = profile_form(request, request.POST)
    if not form.is_valid():
        return page_render(
            request, TEMPLATE, account_context(request, profile_form=form), status=422
        )
    try:
        profile_update_own(
            user=page_visitor(request).user, changes=form.cleaned_data, actor=page_actor(request)
        )
    except TesseraError as exc:
        form_refuse(form, exc)
        return account_refused(request, exc, profile_form=form)
    messages.success(request, _("Your profile was saved."))
    return HttpResponseRedirect(ACCOUNT_PATH)


@require_POST
@page_login_required(limited_ok=True)
def account_password(request: HttpRequest) -> HttpResponse:
    """Tessera's password change: the current password under the lockout, the policy and
    history, every other session ended, trusted devices forgotten, PASSWORD_CHANGE audited."""
    form = PasswordChangeForm(request.POST)
    if not form.is_valid():
        return page_render(
            request, TEMPLATE, account_context(request, password_form=form), status=422
        )
    visitor = page_visitor(request)
    try:
        password_change(
            user=visitor.user,
            session_id=visitor.principal.session_id,
            current_password=form.cleaned_data["current_password"],
            new_password=form.cleaned_data["new_password"],
            actor=page_actor(request),
            ip=page_client_ip(request),
        )
    except TesseraError as exc:
        form_refuse(form, exc)
        return account_refused(request, exc, password_form=form)
    messages.success(request, _("Your password was changed. Your other sessions have ended."))
    return HttpResponseRedirect(ACCOUNT_PATH)


@require_POST
@page_login_required
def account_verify_email(request: HttpRequest) -> HttpResponse:
    """Mail a link that proves the address (the API's request: rate-limited per address)."""
    visitor = page_visitor(request)
    defer(request, email_verify_request, email=visitor.user.email, actor=page_actor(request))
    messages.success(request, _("A confirmation link is on its way to your email address."))
    return HttpResponseRedirect(ACCOUNT_PATH)
