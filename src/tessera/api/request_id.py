"""A request id per request: taken from X-Request-ID when sane, else generated; echoed back."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return _current.get()


class RequestIdLogFilter(logging.Filter):
    """The current request's id on the record, unless the record carries its own (an access
    line written for a request by a transport in front of Django)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) in (None, "-"):
            record.request_id = _current.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response
