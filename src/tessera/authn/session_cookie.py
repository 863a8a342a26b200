"""The browser's session cookie: set by a sign-in (the API's `cookie: true`, a hosted page),
forgotten at sign-out. HttpOnly, SameSite=Lax, Secure in production; it names a server-side
session (tessera.authn.request_auth reads it back), never a secret of its own."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from tessera.audit.services import Actor
from tessera.authn.models import Session
from tessera.authn.reauthentication import session_end_replaced_by_cookie
from tessera.authn.request_auth import SESSION_COOKIE, session_cookie_value


def session_cookie_set(request, response: HttpResponse, session: Session, *, actor: Actor) -> None:
    """Bind the browser to `session`; the session of the cookie it presented ends (ASVS V7.2.4)."""
    session_end_replaced_by_cookie(
        cookie=request.COOKIES.get(SESSION_COOKIE), new_session_id=session.pk, actor=actor
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
    get_token(request)  # the csrftoken cookie: pages put it in their forms, API clients echo it


def session_cookie_forget(response: HttpResponse) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", samesite="Lax")
