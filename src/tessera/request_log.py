"""The end of every HTTP request: its latency in the metrics and one access line in the log.

`request_finished(...)` is the one call for both, made by the Django middleware
(`tessera.api.request_metrics`) and by any transport in front of Django. The request's tenant and
principal also go to every other log line written while it runs: `log_context_bind` sets them
(context variables) and `LogContextFilter` copies them onto each record, where the JSON formatter
(`tessera.log_format`) and the plain one find them.

The access line carries the route template (`/api/v1/users/<user_id>`) and the path with its
query string redacted by the caller (credential-like parameters: `tessera.api.access_log`).
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass

from tessera import metrics

access_logger = logging.getLogger("tessera.http.access")

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class LogContext:
    request_id: str | None = None
    tenant: str | None = None
    principal_id: str | None = None
    principal_type: str | None = None


NO_CONTEXT = LogContext()
_context: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar(
    "tessera_log_context", default=None
)
CONTEXT_FIELDS = ("request_id", "tenant", "principal_id", "principal_type")


def log_context_bind(
    *,
    request_id: str | None = None,
    tenant: str | None = None,
    principal_id: str | None = None,
    principal_type: str | None = None,
) -> contextvars.Token[LogContext | None]:
    """Attach these facts to the log lines written from here on (undo with `log_context_reset`)."""
    return _context.set(LogContext(request_id, tenant, principal_id, principal_type))


def log_context_reset(token: contextvars.Token[LogContext | None]) -> None:
    _context.reset(token)


def log_context() -> LogContext:
    return _context.get() or NO_CONTEXT


class LogContextFilter(logging.Filter):
    """Copies the bound request facts onto a record that does not carry its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = log_context()
        for name in CONTEXT_FIELDS:
            value = getattr(bound, name)
            current = getattr(record, name, None)
            if current in (None, "-") and value is not None:
                setattr(record, name, value)
        return True


def request_finished(
    *,
    route: str,
    method: str,
    status: int,
    seconds: float,
    request_id: str,
    tenant: str | None,
    principal_id: str | None,
    principal_type: str | None,
    path: str | None = None,
) -> None:
    """Record a finished request: the latency histogram and the structured access log line.

    `path`: the requested path and query, already redacted (`tessera.api.access_log.redact`);
    the line shows the route template without it."""
    method = method.upper() if method.upper() in METHODS else "OTHER"
    route = route or UNMATCHED
    metrics.http_request_observe(route=route, method=method, status=status, seconds=seconds)
    duration_ms = round(seconds * 1000, 3)
    access_logger.info(
        "%s %s %s %.1fms",
        method,
        path or route,
        status,
        duration_ms,
        extra={
            "path": path,
            "request_id": request_id,
            "tenant": tenant,
            "principal_id": principal_id,
            "principal_type": principal_type,
            "route": route,
            "method": method,
            "status": status,
            "duration_ms": duration_ms,
        },
    )
