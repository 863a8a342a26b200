"""The browser session cookie: set on sign-in (ending the one it replaces), forgotten on logout."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from tessera.api.context import actor_from_request
from tessera.authn.models import Session
from tessera.authn.reauthentication import session_end_replaced_by_cookie
from tessera.authn.request_auth import SESSION_COOKIE, session_cookie_value


def session_cookie_set(request, response: HttpResponse, session: Session) -> None:
    # ASVS V7.2.4: the session of the cookie this browser presented ends as the new one is set
    session_end_replaced_by_cookie(
        cookie=request.COOKIES.get(SESSION_COOKIE),
        new_session_id=session.pk,
        actor=actor_from_request(request),
    )
    value = session_cookie_value(
        session_id=session.pk,
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        membership_id=session.membership_id,
    )
    max_age = max(0, int((session.absolute_expires_at - timezone.now()).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
        path="/",
    )
    get_token(request)  # the csrftoken cookie the client echoes in X-CSRFToken


def session_cookie_forget(response: HttpResponse) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", samesite="Lax")
