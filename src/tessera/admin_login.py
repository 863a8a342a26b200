"""The admin site's door: sign-in through Tessera's own login flow, into a Tessera session.

    /admin/login/      email + password → tessera.authn.flows.login.login_password(purpose="admin")
      ├─ locked account / blocked IP ─────→ the form again, 429 with Retry-After
      ├─ wrong credentials, not a platform administrator → the form again (one message), 401
      ├─ no second factor while settings.ADMIN_REQUIRE_MFA, or a password to change first
      │                                     → the form again, saying how (403)
      ├─ TOTP enabled ────────────────────→ /admin/login/mfa/ (code or backup code; the challenge
      │                                     token stays in the server-side browser session)
      └─ signed in: a Tessera session (auth_method "admin", the platform's idle and absolute
         limits: settings.ADMIN_SESSION_*), its id kept in the Django session; the Tessera
         session this browser held before, if any, ends (reason `reauthenticated`)
    every admin page   the Tessera session must still be live (not revoked, not idle, not past its
                       lifetime); activity moves its idle expiry; else the browser is signed out
    /admin/logout/     ends the Tessera session too (LOGOUT in the trail)

Lockout, the failed-authentication limit and the audit events (LOGIN, LOGIN_FAILED,
ACCOUNT_LOCKED) are those of the API's login. The admin session authenticates /admin/ only: the
API never accepts it (tessera.authn.request_auth).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django import forms
from django.contrib.auth import REDIRECT_FIELD_NAME, login, logout
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from tessera.audit.actors import actor_from_request
from tessera.audit.models import AuditEventType
from tessera.authn import lockout
from tessera.authn.errors import InvalidCredentials, TooManyAttempts
from tessera.authn.flows.admin_door import AdminMfaRequired
from tessera.authn.flows.login import LoginPending, login_password
from tessera.authn.flows.mfa import mfa_verify
from tessera.authn.models import Session
from tessera.authn.passwords import password_change
from tessera.authn.reauthentication import session_end_replaced
from tessera.authn.sessions import session_revoke, session_touch
from tessera.errors import TesseraError
from tessera.identity.mfa import MfaCodeInvalid
from tessera.identity.password_change import (
    PasswordChangeRequired as AdminPasswordChangeRequired,
)
from tessera.request_facts import client_ip

SESSION_KEY = "tessera_session_id"
MFA_KEY = "tessera_admin_mfa"
NEXT_KEY = "tessera_admin_next"
ACTIVITY_WRITE_INTERVAL = timedelta(seconds=60)
BAD_CREDENTIALS = "Please enter the correct email and password of a platform administrator."
BAD_CODE = "The code is not valid, or this sign-in attempt has ended: sign in again."


class AdminLoginForm(forms.Form):
    username = forms.CharField(label="Email", max_length=320)
    password = forms.CharField(
        label="Password", strip=False, max_length=1024, widget=forms.PasswordInput
    )


class AdminMfaForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _next_url(request, site) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index", current_app=site.name)


def _render(request, site, template: str, form, *, status: int = 200, retry_after=None):
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": "",
        "form": form,
        REDIRECT_FIELD_NAME: _next_url(request, site),
    }
    request.current_app = site.name
    response = TemplateResponse(request, template, context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _form_error(form, message: str):
    form.add_error(None, message)
    return form


def _signed_in(request, site, success):
    """Bind the browser session to the new Tessera session and go on to the admin."""
    request.session.pop(MFA_KEY, None)
    target = request.session.pop(NEXT_KEY, None) or _next_url(request, site)
    session = success.session
    # ASVS V7.2.4: the Tessera session this browser held ends as the new one takes its place
    session_end_replaced(
        session_id=request.session.get(SESSION_KEY),
        new_session_id=session.pk,
        actor=actor_from_request(request),
    )
    login(request, success.user)  # a fresh Django session id (no fixation)
    request.session[SESSION_KEY] = str(session.pk)
    request.session.set_expiry(
        max(1, int((session.absolute_expires_at - timezone.now()).total_seconds()))
    )
    return HttpResponseRedirect(resolve_url(target))


def _refused(request, site, template, form, exc):
    if isinstance(exc, TooManyAttempts):
        return _render(
            request,
            site,
            template,
            _form_error(form, str(exc.detail)),
            status=429,
            retry_after=exc.retry_after,
        )
    return _render(request, site, template, _form_error(form, str(exc.detail)), status=exc.status)


def admin_login_view(request, site):
    """GET: the form (or the admin, when already signed in); POST: the first step."""
    template = "admin/login.html"
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    if request.method != "POST":
        return _render(request, site, template, AdminLoginForm())
    form = AdminLoginForm(request.POST)
    if not form.is_valid():
        return _render(request, site, template, form, status=400)
    wait = lockout.auth_failures_blocked(ip=client_ip(request))
    if wait:
        return _refused(
            request,
            site,
            template,
            form,
            TooManyAttempts(
                "Too many failed authentications from this address. Try again later.",
                retry_after=wait,
            ),
        )
    try:
        outcome = login_password(
            email=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            actor=actor_from_request(request),
            purpose="admin",
        )
    except InvalidCredentials as exc:
        lockout.auth_failure_record(ip=client_ip(request))
        exc.detail = BAD_CREDENTIALS
        return _refused(request, site, template, form, exc)
    except (TooManyAttempts, AdminMfaRequired, AdminPasswordChangeRequired) as exc:
        return _refused(request, site, template, form, exc)
    if isinstance(outcome, LoginPending):
        request.session.cycle_key()
        request.session[MFA_KEY] = outcome.token
        request.session[NEXT_KEY] = _next_url(request, site)
        return HttpResponseRedirect(reverse("admin:tessera_mfa", current_app=site.name))
    return _signed_in(request, site, outcome)


def admin_mfa_view(request, site):
    """The MFA step of the admin sign-in: a TOTP or backup code."""
    template = "admin/tessera_mfa.html"
    token = request.session.get(MFA_KEY)
    if not token:
        return HttpResponseRedirect(reverse("admin:login", current_app=site.name))
    if request.method != "POST":
        return _render(request, site, template, AdminMfaForm())
    form = AdminMfaForm(request.POST)
    if not form.is_valid():
        return _render(request, site, template, form, status=400)
    try:
        result = mfa_verify(
            token=token,
            code=form.cleaned_data["code"],
            actor=actor_from_request(request),
            purpose="admin",
        )
    except MfaCodeInvalid as exc:
        lockout.auth_failure_record(ip=client_ip(request))
        exc.detail = BAD_CODE
        return _refused(request, site, template, form, exc)
    except TooManyAttempts as exc:
        return _refused(request, site, template, form, exc)
    return _signed_in(request, site, result.success)


def admin_session_live(request) -> bool:
    """Whether the browser's Tessera session is still live (moving its idle expiry); a browser
    whose session ended is signed out. Asked once per request (the admin asks several times)."""
    known = request.__dict__.get("_tessera_admin_live")
    if known is None:
        known = request.__dict__["_tessera_admin_live"] = _admin_session_check(request)
    return known


def _admin_session_check(request) -> bool:
    user = getattr(request, "user", None)
    session_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if user is None or not user.is_authenticated:
        return False
    now = timezone.now()
    row = (
        Session.objects.filter(
            pk=session_id,
            user_id=user.pk,
            revoked_at__isnull=True,
            expires_at__gt=now,
            absolute_expires_at__gt=now,
        )
        .values_list("last_activity_at", "idle_seconds")
        .first()
        if session_id
        else None
    )
    if row is None:
        logout(request)
        return False
    last_activity, idle_seconds = row
    if now - last_activity >= ACTIVITY_WRITE_INTERVAL:
        session_touch(session_id=session_id, tenant_id=None, idle_seconds=idle_seconds, now=now)
    return True


def admin_session_end(request) -> None:
    """/admin/logout/: the Tessera session ends with the browser's."""
    session_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not session_id:
        return
    session = Session.objects.filter(pk=session_id).first()
    if session is not None:
        session_revoke(
            session=session,
            reason="logout",
            actor=actor_from_request(request),
            audit_type=AuditEventType.LOGOUT,
        )


class AdminPasswordChangeForm(forms.Form):
    """The fields of Django's admin template (registration/password_change_form.html)."""

    old_password = forms.CharField(
        label="Old password", strip=False, max_length=1024, widget=forms.PasswordInput
    )
    new_password1 = forms.CharField(
        label="New password", strip=False, max_length=1024, widget=forms.PasswordInput
    )
    new_password2 = forms.CharField(
        label="New password confirmation", strip=False, max_length=1024, widget=forms.PasswordInput
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "The two new passwords differ.")
        return data


_PASSWORD_FIELDS = {"current_password": "old_password", "new_password": "new_password1"}


def admin_password_change_view(request, site):
    """The admin's "change password", through Tessera's own password change: the current
    password under the account lockout, the strictest password policy and history, the other
    sessions ended, trusted devices forgotten, PASSWORD_CHANGE audited (Django's own view would
    skip all of that)."""
    form = AdminPasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_change(
                user=request.user,
                session_id=request.session.get(SESSION_KEY),
                current_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                actor=replace(actor_from_request(request), user_id=request.user.pk),
                ip=client_ip(request),
            )
        except TesseraError as exc:
            for error in exc.errors or []:
                form.add_error(_PASSWORD_FIELDS.get(error.get("field"), None), error["message"])
            if not exc.errors:
                form.add_error(None, str(exc.detail))
        else:
            return HttpResponseRedirect(
                reverse("admin:password_change_done", current_app=site.name)
            )
    context = {**site.each_context(request), "title": "Password change", "form": form}
    request.current_app = site.name
    return TemplateResponse(request, "registration/password_change_form.html", context)
