"""Times every request Django answers and hands it to `tessera.request_log.request_finished`
(latency histogram + access line); binds the caller to the log lines written meanwhile.

Sits right after `RequestIdMiddleware`, so that its time covers the other middlewares (sign-in,
tenant, throttling) and the request id is known. The caller is known only once the principal and
tenant middlewares ran: `process_view` binds it for the view's log lines, and the access line
reads it from the request at the end.
"""

from __future__ import annotations

import time

from tessera.api.access_log import redact
from tessera.request_log import (
    UNMATCHED,
    log_context_bind,
    log_context_reset,
    request_finished,
)


def route_template(request) -> str:
    """`/api/v1/users/<user_id>` for the matched URL pattern; "unmatched" when none matched."""
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None) if match is not None else None
    return "/" + route if route else UNMATCHED


def caller(request) -> tuple[str | None, str | None, str | None]:
    """(tenant id, principal id, principal type) of the request, as far as it got."""
    principal = getattr(request, "principal", None)
    tenant_id = getattr(principal, "tenant_id", None) if principal is not None else None
    if tenant_id is None:
        tenant = getattr(request, "tenant", None)
        tenant_id = getattr(tenant, "pk", None) if tenant is not None else None
    if principal is None:
        return _text(tenant_id), None, None
    if principal.api_key_id is not None:
        return _text(tenant_id), str(principal.api_key_id), "api_key"
    return _text(tenant_id), _text(getattr(principal.user, "pk", None)), "user"


def _text(value) -> str | None:
    return None if value is None else str(value)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = getattr(request, "request_id", "") or ""
        token = log_context_bind(request_id=request_id or None)
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            tenant, principal_id, principal_type = caller(request)
            request_finished(
                route=route_template(request),
                method=request.method or "",
                status=status,
                seconds=time.perf_counter() - started,
                request_id=request_id,
                tenant=tenant,
                principal_id=principal_id,
                principal_type=principal_type,
                path=redact(request.get_full_path()),
            )
            log_context_reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """The caller is known by now: the view's own log lines carry it."""
        tenant, principal_id, principal_type = caller(request)
        log_context_bind(
            request_id=getattr(request, "request_id", None),
            tenant=tenant,
            principal_id=principal_id,
            principal_type=principal_type,
        )
        return None
