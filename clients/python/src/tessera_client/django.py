"""Django helpers: a middleware that sets `request.principal`, and decorators for views.

settings.py:

    TESSERA_CLIENT = {
        "BASE_URL": "https://iam.example.com",   # required
        "TENANT_IDS": ["<tenant id>"],           # required: the tenants served, or
        # "ANY_TENANT": True,                    #   every tenant (scope by principal.tenant_id)
        # optional: "ISSUER", "AUDIENCE" ("tessera"), "API_KEY",
        # "DECISION_CACHE_TTL" (seconds; 0 = off, the default), "DECISION_CACHE_SIZE" (10000),
        # "TIMEOUT" (5.0), "CONNECT_TIMEOUT" (2.0), "RETRIES" (2)
    }
    MIDDLEWARE = [..., "tessera_client.django.TesseraMiddleware"]   # anywhere in the list

views.py:

    from tessera_client.django import permission_required, tenant_role_required

    @permission_required("invoice:approve")
    def approve(request, invoice_id): ...

    @tenant_role_required("admin")
    async def settings_page(request): ...

The middleware verifies a Bearer access token locally (no request to Tessera once the JWKS is
cached): `request.principal` is the `Principal`, or None without a token; an invalid, expired or
foreign token is answered 401 at once. The decorators then ask Tessera with the caller's own token
(so a revoked session or permission is refused on the next request), for sync and async views
alike. Refusals are problem+json: 401, 403, or 503 when Tessera cannot be asked (never an allow).

CSRF: keep `django.middleware.csrf.CsrfViewMiddleware`. A request the middleware authenticated by
a verified Bearer token, and that carries no Django session cookie, is exempt from the CSRF check
(`request._dont_enforce_csrf_checks`): a browser never adds an Authorization header to a forged
cross-site request, so such a request is not CSRF-prone. A request that also carries the session
cookie (the user may be logged into the site as well) keeps the check, as does every
cookie-authenticated request.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, JsonResponse

from ._problems import CONTENT_TYPE, Problem, forbidden, problem_for, unauthenticated
from .cache import DecisionCache
from .client import TesseraClient, bearer_token
from .errors import TesseraError
from .models import Principal, Resource

__all__ = [
    "TesseraMiddleware",
    "configure",
    "csrf_failure",
    "error_response",
    "forbidden_response",
    "get_client",
    "permission_required",
    "principal_required",
    "tenant_role_required",
]

_lock = threading.Lock()
_client: TesseraClient | None = None


def _from_settings() -> TesseraClient:
    conf: Mapping[str, Any] = getattr(settings, "TESSERA_CLIENT", None) or {}
    base_url = conf.get("BASE_URL")
    if not base_url:
        raise RuntimeError("settings.TESSERA_CLIENT['BASE_URL'] is required")
    ttl = float(conf.get("DECISION_CACHE_TTL") or 0)
    cache = (
        DecisionCache(ttl=ttl, max_entries=int(conf.get("DECISION_CACHE_SIZE", 10_000)))
        if ttl > 0
        else None
    )
    return TesseraClient(
        base_url,
        api_key=conf.get("API_KEY"),
        issuer=conf.get("ISSUER"),
        audience=conf.get("AUDIENCE", "tessera"),
        tenant_ids=conf.get("TENANT_IDS"),
        any_tenant=bool(conf.get("ANY_TENANT", False)),
        decision_cache=cache,
        timeout=float(conf.get("TIMEOUT", 5.0)),
        connect_timeout=float(conf.get("CONNECT_TIMEOUT", 2.0)),
        retries=int(conf.get("RETRIES", 2)),
    )


def get_client() -> TesseraClient:
    """The process's client, built from `settings.TESSERA_CLIENT` on first use."""
    global _client
    client = _client
    if client is None:
        with _lock:
            if _client is None:
                _client = _from_settings()
            client = _client
    return client


def configure(client: TesseraClient | None) -> None:
    """Use `client` instead of one built from settings (None: build from settings again)."""
    global _client
    with _lock:
        old, _client = _client, client
    if old is not None and old is not client:
        old.close()


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "TESSERA_CLIENT":
        configure(None)


setting_changed.connect(_settings_changed)


def _respond(request: HttpRequest, problem: Problem) -> HttpResponse:
    response = JsonResponse(
        problem.body(request.path), status=problem.status, content_type=CONTENT_TYPE
    )
    for name, value in problem.headers.items():
        response[name] = value
    return response


def error_response(request: HttpRequest, exc: TesseraError) -> HttpResponse:
    """The refusal for an SDK error met in a view (401, 403, 503, or 500) as problem+json."""
    return _respond(request, problem_for(exc))


def forbidden_response(
    request: HttpRequest, detail: str = "You are not allowed to do this."
) -> HttpResponse:
    """A 403 problem+json, for checks made in a view."""
    return _respond(request, forbidden(detail))


def _csrf_exempt_if_bearer(request: HttpRequest) -> None:
    """A request authenticated by a verified Bearer token, without the session cookie, is not
    CSRF-prone: let CsrfViewMiddleware pass it (a request with the cookie keeps the check)."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A problem+json 403 for Django's CSRF refusals, for API-only projects:
    `CSRF_FAILURE_VIEW = "tessera_client.django.csrf_failure"` in settings.py (optional)."""
    return _respond(
        request,
        Problem(
            403,
            "CSRF verification failed",
            "Send an Authorization: Bearer access token (API clients), or the CSRF token "
            "(browser forms).",
            "csrf_failed",
        ),
    )


def _in_thread(func: Callable[..., Any]) -> Callable[..., Any]:
    # The sync client in a worker thread: one connection pool for the process, correct under
    # ASGI and WSGI alike (async views under WSGI get a new event loop per request).
    return sync_to_async(func, thread_sensitive=False)


class TesseraMiddleware:
    """Sets `request.principal` from a Bearer access token; 401 for a token that does not verify."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._is_async:
            return self.__acall__(request)
        request.principal = None  # type: ignore[attr-defined]
        token = bearer_token(request.headers.get("Authorization"))
        if token is not None:
            try:
                request.principal = get_client().verify_token(token)  # type: ignore[attr-defined]
            except TesseraError as exc:
                return _respond(request, problem_for(exc))
            _csrf_exempt_if_bearer(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> Any:
        request.principal = None  # type: ignore[attr-defined]
        token = bearer_token(request.headers.get("Authorization"))
        if token is not None:
            client = get_client()
            try:
                principal = client.verifier.verify_held(token)  # local, no I/O
                if principal is None:  # the key set must be fetched: not on the event loop
                    principal = await _in_thread(client.verify_token)(token)
            except TesseraError as exc:
                return _respond(request, problem_for(exc))
            request.principal = principal  # type: ignore[attr-defined]
            _csrf_exempt_if_bearer(request)
        return await self.get_response(request)


def _principal(request: HttpRequest) -> Principal | None:
    principal = getattr(request, "principal", None)
    if principal is None and not hasattr(request, "principal"):
        raise RuntimeError("add tessera_client.django.TesseraMiddleware to MIDDLEWARE")
    return principal if isinstance(principal, Principal) else None


def _guard(
    decide: Callable[[TesseraClient, HttpRequest, Principal, tuple, dict], Problem | None],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a view decorator from `decide` (sync; None = allowed, else the refusal)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                principal = _principal(request)
                if principal is None:
                    return _respond(request, unauthenticated())
                refusal = await _in_thread(decide)(get_client(), request, principal, args, kwargs)
                if refusal is not None:
                    return _respond(request, refusal)
                return await view(request, *args, **kwargs)

            return async_wrapper

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            principal = _principal(request)
            if principal is None:
                return _respond(request, unauthenticated())
            refusal = decide(get_client(), request, principal, args, kwargs)
            if refusal is not None:
                return _respond(request, refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def principal_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only a caller with a verified access token gets through (401 otherwise); no server call."""
    return _guard(lambda client, request, principal, args, kwargs: None)(view)


ResourceFactory = Callable[..., Resource | Mapping[str, Any] | None]


def permission_required(
    permission: str,
    *,
    resource: ResourceFactory | None = None,
    id_kwarg: str | None = None,
    context: Callable[[HttpRequest], Mapping[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let the view run only if Tessera allows `permission` ("resource:action").

    The resource asked about is `{type: <resource>}`, with `id` from the URL keyword `id_kwarg`,
    or whatever `resource(request, *args, **kwargs)` returns (sync; it runs in a worker thread for
    async views) — e.g. a Resource with `owner_id` for "own" scopes. `context(request)` may add
    decision context.
    """
    resource_type, sep, action = permission.partition(":")
    if not sep or not resource_type or not action or ":" in action:
        raise ValueError(f"permission must be 'resource:action', not {permission!r}")

    def decide(client, request, principal, args, kwargs) -> Problem | None:
        if resource is not None:
            target = resource(request, *args, **kwargs)
        else:
            target = Resource(resource_type, id=kwargs.get(id_kwarg) if id_kwarg else None)
        try:
            decision = client.check(
                permission,
                target,
                principal=principal,
                context=context(request) if context else None,
            )
        except TesseraError as exc:
            return problem_for(exc)
        return None if decision.allowed else forbidden(f"Permission {permission} is required.")

    return _guard(decide)


def tenant_role_required(
    *roles: str, live: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let the view run only if the caller holds one of `roles` in the token's tenant.

    By default the roles are read from the token's `roles` claim: no request to Tessera, and as
    fresh as the token (a role removed shows when the token is refreshed, at most its lifetime
    later; a logged-out token passes until it expires). `live=True` reads them from Tessera
    (`GET /auth/me`, one round trip) with the caller's own token, which also refuses a revoked
    session at once; so does a token without the claim.
    """
    if not roles or not all(isinstance(r, str) and r for r in roles):
        raise ValueError("tenant_role_required needs at least one role slug")
    listed = ", ".join(roles)

    def decide(client, request, principal, args, kwargs) -> Problem | None:
        if principal.tenant_id is None:
            return forbidden("A tenant role is required; select a tenant.")
        if live or principal.roles is None:
            try:
                me = client.me(principal=principal)
            except TesseraError as exc:
                return problem_for(exc)
            if me.tenant_id != principal.tenant_id:
                return forbidden("A tenant role is required; select a tenant.")
            held = me.has_role(*roles)
        else:
            held = principal.has_role(*roles)
        return None if held else forbidden(f"One of these roles is required: {listed}.")

    return _guard(decide)
