"""The one mapping from errors to RFC 9457 problem+json responses."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from tessera.errors import TesseraError

logger = logging.getLogger("tessera.api")

PROBLEM_TYPE_BASE = "https://tessera.dev/problems/"
CONTENT_TYPE = "application/problem+json"


def problem_body(
    *,
    status: int,
    title: str,
    detail: str,
    code: str,
    errors: list[dict[str, Any]] | None = None,
    request=None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if request is not None:
        body["instance"] = request.path
        rid = getattr(request, "request_id", None)
        if rid:
            body["request_id"] = rid
    return body


def problem(
    request,
    *,
    status: int,
    title: str,
    detail: str,
    code: str,
    errors=None,
    headers=None,
    extensions: dict[str, Any] | None = None,
) -> HttpResponse:
    body = problem_body(
        status=status, title=title, detail=detail, code=code, errors=errors, request=request
    )
    for name, value in (extensions or {}).items():
        body.setdefault(name, value)
    response = HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def www_authenticate(request) -> str:
    """The challenge of a 401 (RFC 6750 section 3): `error="invalid_token"` only when the request
    sent a Bearer credential; a request without one gets the bare challenge."""
    scheme = (request.headers.get("Authorization") or "").strip().partition(" ")[0]
    if scheme.lower() == "bearer":
        return 'Bearer realm="tessera", error="invalid_token"'
    return 'Bearer realm="tessera"'


def problem_response(request, exc: TesseraError) -> HttpResponse:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = www_authenticate(request)
    return problem(
        request,
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        code=exc.code,
        errors=exc.errors,
        headers=headers,
        extensions=getattr(exc, "extensions", None),
    )


# the database did not answer (down, restarting, refusing connections, over a timeout): the
# request may be retried — 503 with Retry-After, never a 500 (docs/operations/failures.md)
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
UNAVAILABLE_RETRY_AFTER = 5


def unavailable_response(request) -> HttpResponse:
    return problem(
        request,
        status=503,
        title="Service unavailable",
        detail="The database does not answer; try again in a few seconds.",
        code="service_unavailable",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
    )


def internal_error_response(request, exc: BaseException | None) -> HttpResponse:
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        return unavailable_response(request)
    logger.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return problem(
        request,
        status=500,
        title="Internal error",
        detail="Something went wrong on our side. Quote the request id when reporting it.",
        code="internal_error",
    )
