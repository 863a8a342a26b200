"""How a page knows who is looking at it: the Tessera session cookie (`tessera_session`).

    @page_login_required
    def view(request):                 anonymous, forged cookie, ended session, inactive membership
        request.visitor.user           → 302 /signin/?next=<this path> (a dead cookie is deleted)
        request.visitor.membership     the session's tenant and membership (None when it is bound
        request.visitor.tenant         to no tenant); request.principal/.tenant/.membership are set
                                       as the API's middleware sets them, so access.guard works
    page_actor(request)                the audit Actor of the request

A session that must first change its password or set up MFA reaches only the views marked
`@page_login_required(limited_ok=True)` (the account page); the others send it there. The
person's `language` chooses the page's language (LocaleMiddleware's choice, from the browser,
serves anonymous pages). The cookie is the one the API's `cookie: true` login sets: one session,
one liveness check (tessera.authn.request_auth.session_cookie_principal), one revocation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation

from tessera.audit.actors import actor_from_request
from tessera.audit.services import Actor
from tessera.authn.principal import Principal
from tessera.authn.request_auth import SESSION_COOKIE, session_cookie_principal
from tessera.authn.session_cookie import session_cookie_forget
from tessera.errors import TesseraError
from tessera.tenancy.resolution import resolve_tenant

SIGNIN_PATH = "/signin/"
ACCOUNT_PATH = "/account/"


@dataclass(frozen=True, slots=True)
class Visitor:
    """The signed-in person a page is shown to."""

    principal: Principal
    user: Any  # tessera.identity.models.User
    tenant: Any  # tessera.tenancy.models.Tenant | None
    membership: Any  # tessera.tenancy.models.Membership | None

    @property
    def limited_to(self) -> str | None:
        """What the session must do before anything else: "password_change", "mfa_setup"."""
        if self.principal.password_change_required:
            return "password_change"
        if self.principal.mfa_setup_required:
            return "mfa_setup"
        return None


def visitor_of(request: HttpRequest) -> Visitor | None:
    """The person whose live session the request's cookie names, or None (and the request is
    marked so that the dead cookie is deleted)."""
    value = request.COOKIES.get(SESSION_COOKIE)
    if not value:
        return None
    try:
        principal = session_cookie_principal(value)
        tenant, membership = resolve_tenant(principal=principal, hint=None)
    except TesseraError:
        request.session_cookie_dead = True  # type: ignore[attr-defined]
        return None
    return Visitor(principal=principal, user=principal.user, tenant=tenant, membership=membership)


def signin_url(next_path: str | None = None) -> str:
    return f"{SIGNIN_PATH}?{urlencode({'next': next_path})}" if next_path else SIGNIN_PATH


def page_activate_language(request: HttpRequest, language: str | None) -> None:
    """Serve the page in the person's language when we have it (else LocaleMiddleware's)."""
    if not language:
        return
    try:
        code = translation.get_supported_language_variant(language.strip().lower())
    except LookupError:
        return
    translation.activate(code)
    request.LANGUAGE_CODE = translation.get_language()


def _attach(request: HttpRequest, visitor: Visitor) -> None:
    request.visitor = visitor  # type: ignore[attr-defined]
    request.principal = visitor.principal  # type: ignore[attr-defined]
    request.tenant = visitor.tenant  # type: ignore[attr-defined]
    request.membership = visitor.membership  # type: ignore[attr-defined]
    page_activate_language(request, getattr(visitor.user, "language", None))


def _to_signin(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(signin_url(request.get_full_path()))
    if getattr(request, "session_cookie_dead", False):
        session_cookie_forget(response)
    return response


def page_login_required(
    view: Callable[..., HttpResponse] | None = None, *, limited_ok: bool = False
) -> Any:
    """Decorate a page view: only a signed-in person sees it (see the module docstring)."""

    def decorate(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            visitor = visitor_of(request)
            if visitor is None:
                return _to_signin(request)
            if visitor.limited_to and not limited_ok:
                return HttpResponseRedirect(ACCOUNT_PATH)
            _attach(request, visitor)
            return func(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def page_visitor(request: HttpRequest) -> Visitor:
    """The visitor `page_login_required` attached to the request."""
    return request.visitor  # type: ignore[attr-defined]


def page_actor(request: HttpRequest) -> Actor:
    """Who acts, for audit events (the visitor once signed in; an anonymous person before)."""
    return actor_from_request(request)
