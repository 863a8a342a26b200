"""The SCIM transport: bearer authentication, JSON bodies, `application/scim+json` answers and
RFC 7644 §3.12 errors for every failure (never Django's or the API's problem+json).

`scim_view` wraps each view: it authenticates the tenant's SCIM token (failed attempts count
against the client IP as the API's do: tessera.authn.lockout), sets `request.tenant` and
`request.scim_actor`, applies the API's request budget, and turns any TesseraError into a SCIM
error. An unexpected exception is logged and answered 500 without internals.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from tessera.api.text_guard import storable
from tessera.api.throttle import throttle_check
from tessera.audit.services import Actor
from tessera.authn import lockout
from tessera.errors import RateLimited, TesseraError
from tessera.request_facts import client_ip
from tessera.scim.errors import (
    ScimInvalidSyntax,
    ScimInvalidValue,
    ScimMethodNotAllowed,
    ScimUnauthorized,
    scim_error_body,
)
from tessera.scim.models import ScimToken
from tessera.scim.tokens import scim_actor, scim_token_authenticate
from tessera.tenancy.models import Tenant

logger = logging.getLogger("tessera.scim")
CONTENT_TYPE = "application/scim+json"
BASE_PATH = "/scim/v2"


class ScimRequest(HttpRequest):
    """The type of a request inside a `scim_view` (the same HttpRequest object, with what
    `_authenticate` set on it)."""

    tenant: Tenant
    scim_token: ScimToken
    scim_actor: Actor


def scim_json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None):
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def scim_error(error: TesseraError) -> HttpResponse:
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="scim"'
    return scim_json(scim_error_body(error), status=error.status, headers=headers)


def location_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(BASE_PATH)


def _walk_storable(value: Any) -> bool:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return all(_walk_storable(k) and _walk_storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_walk_storable(v) for v in value)
    return True


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; invalidSyntax when it is not one."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ScimInvalidValue("The request body is too large") from None
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise ScimInvalidSyntax("The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ScimInvalidSyntax("The body is a JSON object")
    if not _walk_storable(body):
        raise ScimInvalidValue("NUL characters and unpaired surrogates are not accepted")
    return body


def _authenticate(request: HttpRequest) -> None:
    ip = client_ip(request)
    wait = lockout.auth_failures_blocked(ip=ip)
    if wait:
        raise RateLimited("Too many failed authentications from this address", retry_after=wait)
    scheme, _, credential = request.headers.get("Authorization", "").strip().partition(" ")
    try:
        if scheme.lower() != "bearer" or not credential.strip():
            raise ScimUnauthorized("Use Authorization: Bearer <the tenant's SCIM token>")
        token = scim_token_authenticate(credential.strip(), now=timezone.now())
    except ScimUnauthorized:
        lockout.auth_failure_record(ip=ip)
        raise
    authenticated = cast(ScimRequest, request)
    authenticated.tenant = token.tenant
    authenticated.scim_token = token
    authenticated.scim_actor = scim_actor(
        token,
        ip=ip,
        user_agent=request.headers.get("User-Agent", ""),
        request_id=getattr(request, "request_id", "") or "",
    )


def scim_view(methods: set[str]) -> Callable:
    """Decorate a view serving `methods` (others: 405 in SCIM's form)."""

    def wrap(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                _authenticate(request)
                throttle_check(request)
                if request.method not in methods:
                    raise ScimMethodNotAllowed(f"{request.method} is not allowed here")
                return view(request, *args, **kwargs)
            except TesseraError as exc:
                return scim_error(exc)
            except Exception:
                logger.exception("SCIM request failed", extra={"path": request.path})
                return scim_json(
                    {
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                        "status": "500",
                        "detail": "Internal error",
                    },
                    status=500,
                )

        return handler

    return wrap
