"""/signin/: the hosted sign-in, a walk through tessera.authn's login flow.

    /signin/            email ─→ a registered SSO discoverer routes it (tessera.web.discovery)
                                  └─ none: /signin/password/
    /signin/password/   login_password(purpose="web") — the API's flow: lockout, LOGIN(_FAILED)
      ├─ locked account / blocked address ───→ the form again, 429 with Retry-After
      ├─ wrong credentials (one message) ────→ the form again, 401 (counts against the address)
      ├─ a second factor ─────────────────────→ /signin/mfa/ (the challenge stays server-side)
      └─ signed in ───────────────────────────→ the session cookie; then the tenant chooser when
                                                 the session is bound to no tenant and the person
                                                 has several, else `next`
    /signin/mfa/        mfa_verify(purpose="web"): TOTP or backup code; "trust this device" when
                        the tenant allows it (the device token goes in an HttpOnly cookie and
                        skips this step next time, as the API's `device_token` does)
    /signin/tenant/     the tenant chooser: tenant_switch — that tenant's policy may ask for the
                        MFA step again

`next` (or `return_to`) is followed only to a local path or a registered origin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tessera.authn import lockout
from tessera.authn.errors import TooManyAttempts
from tessera.authn.flows.login import LoginPending, LoginSuccess, login_password
from tessera.authn.flows.mfa import challenge_allows_trusted_device, mfa_verify
from tessera.authn.flows.switch import tenant_switch
from tessera.authn.selectors import memberships_with_roles
from tessera.authn.session_cookie import session_cookie_set
from tessera.errors import NotAuthenticated, TesseraError
from tessera.web.auth import (
    ACCOUNT_PATH,
    page_actor,
    page_client_ip,
    page_login_required,
    page_visitor,
)
from tessera.web.discovery import sign_in_route
from tessera.web.forms import EmailForm, MfaStepForm, PasswordForm, TenantChoiceForm
from tessera.web.rendering import form_refuse, page_render, retry_after_of
from tessera.web.return_to import safe_return_to

T = TypeVar("T")
STATE_KEY = "tessera_signin"
DEVICE_COOKIE = "tessera_device"
DEVICE_COOKIE_PATH = "/signin/"
DEVICE_COOKIE_AGE = 30 * 86400
TOO_MANY_FROM_ADDRESS = "Too many failed authentications from this address. Try again later."


def _state(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(STATE_KEY) or {})


def _save(request: HttpRequest, **changes: Any) -> None:
    request.session[STATE_KEY] = {**_state(request), **changes}


def _next_of(request: HttpRequest) -> str:
    raw = request.GET.get("next") or request.GET.get("return_to")
    return safe_return_to(raw, default=ACCOUNT_PATH)


def _step(
    request: HttpRequest,
    template: str,
    form: forms.Form,
    context: dict[str, Any],
    call: Callable[[], T],
) -> T | HttpResponse:
    """One sign-in step's flow call, under the failed-authentication limit of the address:
    its result, or the step's page again with the refusal and its status. A 401
    (a wrong password or code) counts against the address, as it does at /api/v1/auth/*."""
    ip = page_client_ip(request)
    try:
        wait = lockout.auth_failures_blocked(ip=ip)
        if wait:
            raise TooManyAttempts(TOO_MANY_FROM_ADDRESS, retry_after=wait)
        return call()
    except TesseraError as exc:
        if isinstance(exc, NotAuthenticated):
            lockout.auth_failure_record(ip=ip)
        status = form_refuse(form, exc)
        return page_render(
            request, template, context, status=status, retry_after=retry_after_of(exc)
        )


def finish_sign_in(request: HttpRequest, success: LoginSuccess, *, next_url: str) -> HttpResponse:
    """Bind the browser to the new session, then go on (to the tenant chooser when needed)."""
    target = safe_return_to(next_url, default=ACCOUNT_PATH)
    session = success.session
    assert session is not None
    choose = (
        session.tenant_id is None
        and len(memberships_with_roles(user_id=success.user.pk, now=timezone.now())) > 1
    )
    request.session.pop(STATE_KEY, None)
    request.session.cycle_key()  # a fresh browser-session id at sign-in (no fixation)
    if choose:
        _save(request, next=target)
        target = "/signin/tenant/"
    response = HttpResponseRedirect(target)
    session_cookie_set(request, response, session, actor=page_actor(request))
    return response


def start_mfa_step(request: HttpRequest, pending: LoginPending, *, next_url: str) -> HttpResponse:
    """Keep the challenge token server-side and show the MFA step."""
    request.session.cycle_key()
    _save(request, mfa_token=pending.token, next=next_url)
    return HttpResponseRedirect("/signin/mfa/")


@require_http_methods(["GET", "POST"])
def signin_email(request: HttpRequest) -> HttpResponse:
    next_url = _next_of(request)
    form = EmailForm(request.POST or None, initial={"email": _state(request).get("email", "")})
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        tenant = (request.GET.get("tenant") or "").strip()[:64] or None
        _save(request, email=email, next=next_url, tenant=tenant, mfa_token=None)
        routed = sign_in_route(email, request=request, next_url=next_url)
        return HttpResponseRedirect(routed or "/signin/password/")
    status = 400 if request.method == "POST" else 200
    return page_render(
        request,
        "web/signin/email.html",
        {"form": form, "query": request.GET.urlencode()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def signin_password(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    if not state.get("email"):
        return HttpResponseRedirect("/signin/")
    form = PasswordForm(request.POST or None)
    context = {"form": form, "email": state["email"]}
    if request.method != "POST":
        return page_render(request, "web/signin/password.html", context)
    if not form.is_valid():
        return page_render(request, "web/signin/password.html", context, status=400)
    outcome = _step(
        request,
        "web/signin/password.html",
        form,
        context,
        lambda: login_password(
            email=state["email"],
            password=form.cleaned_data["password"],
            tenant=state.get("tenant"),
            actor=page_actor(request),
            device_token=request.COOKIES.get(DEVICE_COOKIE),
            purpose="web",
        ),
    )
    if isinstance(outcome, HttpResponse):
        return outcome
    next_url = state.get("next") or ACCOUNT_PATH
    if isinstance(outcome, LoginPending):
        return start_mfa_step(request, outcome, next_url=next_url)
    return finish_sign_in(request, outcome, next_url=next_url)


@require_http_methods(["GET", "POST"])
def signin_mfa(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    token = state.get("mfa_token")
    if not token:
        return HttpResponseRedirect("/signin/")
    form = MfaStepForm(request.POST or None)
    trust_offered = challenge_allows_trusted_device(token=token)
    if not trust_offered:
        del form.fields["trust_device"]
    context = {"form": form, "trust_offered": trust_offered}
    if request.method != "POST":
        return page_render(request, "web/signin/mfa.html", context)
    if not form.is_valid():
        return page_render(request, "web/signin/mfa.html", context, status=400)
    result = _step(
        request,
        "web/signin/mfa.html",
        form,
        context,
        lambda: mfa_verify(
            token=token,
            code=form.cleaned_data["code"],
            trust_device=bool(trust_offered and form.cleaned_data.get("trust_device")),
            actor=page_actor(request),
            purpose="web",
        ),
    )
    if isinstance(result, HttpResponse):
        return result
    response = finish_sign_in(request, result.success, next_url=state.get("next") or ACCOUNT_PATH)
    if result.device_token:
        response.set_cookie(
            DEVICE_COOKIE,
            result.device_token,
            max_age=DEVICE_COOKIE_AGE,
            httponly=True,
            secure=settings.SESSION_COOKIE_SECURE,
            samesite="Lax",
            path=DEVICE_COOKIE_PATH,
        )
    return response


@page_login_required
@require_http_methods(["GET", "POST"])
def signin_tenant(request: HttpRequest) -> HttpResponse:
    """Choose the tenant to act in (a session moves there under that tenant's policy)."""
    visitor = page_visitor(request)
    memberships = memberships_with_roles(user_id=visitor.user.pk, now=timezone.now())
    next_url = _state(request).get("next") or ACCOUNT_PATH
    form = TenantChoiceForm(request.POST or None)
    context = {"form": form, "memberships": memberships, "nav": "tenant"}
    if request.method != "POST":
        return page_render(request, "web/signin/tenant.html", context)
    if not form.is_valid():
        return page_render(request, "web/signin/tenant.html", context, status=400)
    try:
        outcome = tenant_switch(
            session_id=visitor.principal.session_id,
            user=visitor.user,
            tenant_hint=form.cleaned_data["tenant"],
            actor=page_actor(request),
        )
    except TesseraError as exc:
        status = form_refuse(form, exc)
        return page_render(request, "web/signin/tenant.html", context, status=status)
    if isinstance(outcome, LoginPending):
        return start_mfa_step(request, outcome, next_url=next_url)
    request.session.pop(STATE_KEY, None)
    response = HttpResponseRedirect(safe_return_to(next_url, default=ACCOUNT_PATH))
    session_cookie_set(request, response, outcome.tokens.session, actor=page_actor(request))
    return response
