"""The fast path's handler: Django's own middlewares around the resolved view, minus those that
act only on cookies, pages or static files.

The fast path takes no request that carries a `Cookie` header and only API paths (the SCIM
views, bearer-authenticated, are exempt from CSRF and read no session), so the skipped
middlewares would do nothing to its requests: the session, CSRF, authentication (Django's admin
user), messages and page-language middlewares read cookies or act on page paths only; WhiteNoise
serves /static/. Every other middleware of `settings.MIDDLEWARE` — request ids, problem+json
fallbacks, the URL text guard, security headers, host validation and Content-Length, X-Frame-
Options, authentication, tenant resolution, throttling, deferred work, and any middleware added
later — runs exactly as in Django, wrapped the same way (`convert_exception_to_response`), so
there is one copy of every rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import ResolverMatch
from django.utils.module_loading import import_string

SKIPPED_MIDDLEWARE = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "tessera.web.language.PageLocaleMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    }
)

Handler = Callable[[HttpRequest], HttpResponse]
# hooks of Django's handler the fast chain does not call (it calls `process_view`)
UNSUPPORTED_HOOKS = ("process_exception", "process_template_response")


def fast_middleware() -> list[str]:
    return [path for path in settings.MIDDLEWARE if path not in SKIPPED_MIDDLEWARE]


ViewHook = Callable[..., HttpResponseBase | None]


def _view_caller(
    views: dict[tuple[str, str], ResolverMatch], view_hooks: list[ViewHook]
) -> Callable[..., Any]:
    def call_view(request: HttpRequest) -> HttpResponseBase:
        match = views[(request.method or "", request.path_info)]
        request.resolver_match = match
        for process_view in view_hooks:  # in MIDDLEWARE order; the first answer wins
            answer = process_view(request, match.func, match.args, match.kwargs)
            if answer is not None:
                return answer
        return match.func(request, *match.args, **match.kwargs)

    return call_view


def build_handler(views: dict[tuple[str, str], ResolverMatch]) -> Handler:
    """The middleware chain around the views, built the way Django's BaseHandler builds it
    (`process_view` hooks included)."""
    view_hooks: list[ViewHook] = []
    handler: Callable[..., Any] = convert_exception_to_response(_view_caller(views, view_hooks))
    for path in reversed(fast_middleware()):
        middleware = import_string(path)(handler)
        hooks = [hook for hook in UNSUPPORTED_HOOKS if hasattr(middleware, hook)]
        if hooks:
            raise ImproperlyConfigured(
                f"{path} has {', '.join(hooks)}, which the fast path does not call: add it to "
                "tessera.fastpath.chain.SKIPPED_MIDDLEWARE (if it does nothing without cookies) "
                "or give it a phase here (docs/decisions/0020-fast-path.md)"
            )
        if hasattr(middleware, "process_view"):
            view_hooks.insert(0, middleware.process_view)
        handler = convert_exception_to_response(middleware)
    # sync middlewares around a sync view: each layer answers a response, never an awaitable
    return cast(Handler, handler)
