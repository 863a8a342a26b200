"""The django-ninja API under /api/v1: one instance, its error handlers and its routers."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.operation import Operation

from tessera import __version__
from tessera.api.openapi import complete_openapi
from tessera.api.routers import ROUTERS
from tessera.api.transport import JsonOnlyParser
from tessera.errors import TesseraError
from tessera.problems import (
    internal_error_response,
    problem,
    problem_response,
    www_authenticate,
)


class TesseraAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        return complete_openapi(super().get_openapi_schema(*args, **kwargs))

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """`<area module>_<view>`: a view in `tessera.api.users.views` is `tessera_api_users_…`,
        so the ids name the area, not the file that holds its views (stable across layouts)."""
        view = operation.view_func
        area = view.__module__.removesuffix(".views")
        return f"{area}_{view.__name__}".replace(".", "_")


api = TesseraAPI(
    title="Tessera",
    version=__version__,
    description=(
        "Multi-tenant identity and access management. Every error is "
        "`application/problem+json` (RFC 9457)."
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    parser=JsonOnlyParser(),
)


def _validation_errors(exc: ValidationError) -> list[dict]:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header", "cookie", "form"}:
            loc = loc[1:]
        if loc and loc[0] in {"payload", "data", "body"}:
            loc = loc[1:]
        errors.append(
            {
                "field": ".".join(loc) or "body",
                "message": err.get("msg", "invalid"),
                "code": err.get("type", "invalid"),
            }
        )
    return errors


@api.exception_handler(TesseraError)
def _tessera_error(request, exc: TesseraError):
    return problem_response(request, exc)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    return problem(
        request,
        status=422,
        title="Validation failed",
        detail="The request does not match the schema.",
        code="validation_failed",
        errors=_validation_errors(exc),
    )


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc):
    return problem(
        request,
        status=401,
        title="Authentication required",
        detail="Send a valid access token, API key or session cookie.",
        code="not_authenticated",
        headers={"WWW-Authenticate": www_authenticate(request)},
    )


@api.exception_handler(AuthorizationError)
def _authorization_error(request, exc):
    return problem(
        request, status=403, title="Forbidden", detail=str(exc), code="permission_denied"
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, RequestDataTooBig):
        return problem(
            request,
            status=413,
            title="Payload too large",
            detail="The request body exceeds the size limit.",
            code="payload_too_large",
        )
    if isinstance(exc.__cause__, TesseraError):  # the parser's own verdict (tessera.api.text_guard)
        return problem_response(request, exc.__cause__)
    status = exc.status_code
    code = "malformed_body" if status == 400 else "http_error"
    return problem(request, status=status, title=str(exc), detail=str(exc), code=code)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return problem(
        request,
        status=413,
        title="Payload too large",
        detail="The request body exceeds the size limit.",
        code="payload_too_large",
    )


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    return problem(
        request, status=400, title="Bad request", detail="Bad request.", code="bad_request"
    )


@api.exception_handler(MultiPartParserError)
def _malformed_multipart(request, exc):
    return problem(
        request,
        status=400,
        title="Malformed multipart body",
        detail="The multipart/form-data body cannot be parsed (boundary missing or broken).",
        code="malformed_body",
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(request, status=404, title="Not found", detail="Not found.", code="not_found")


@api.exception_handler(Exception)
def _unexpected(request, exc):
    return internal_error_response(request, exc)


for prefix, router in ROUTERS:
    api.add_router(prefix, router)
