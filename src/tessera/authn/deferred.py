"""Work done after the response is sent: `defer(request, fn, *args, **kwargs)`.

For endpoints whose answer must not tell, by its content or its time, whether an account exists
(password reset, email verification): the view validates its input, defers the lookup, the token,
the audit event and the mail, and answers at once — the same bytes in the same time for a known
and an unknown address. The deferred calls run in the request's thread when the server closes the
response (Django's `HttpResponse.close()`, which WSGI servers — a2wsgi here — call after the last
body chunk went out; Django's test client calls it before returning, so tests see the mail).

`DeferredWorkMiddleware` (in settings.MIDDLEWARE) hands the request's deferred calls to its
response. A call that raises is logged, never surfaced (the answer is already gone). The calls run
before `close()` sends `request_finished`, so Django's connection clean-up comes after them.
Without a request (commands, services called directly) `defer` runs the call at once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

_ATTR = "_tessera_deferred"


def defer(request, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Run `fn(*args, **kwargs)` once the response to `request` has been sent."""
    call = functools.partial(fn, *args, **kwargs)
    if request is None:
        call()
        return
    pending = request.__dict__.setdefault(_ATTR, [])
    pending.append(call)


def _guarded(call: functools.partial[Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            call()
        except Exception:  # the answer is already sent: log, never raise into the server
            logger.exception("deferred work %s failed", getattr(call.func, "__qualname__", call))

    return run


def deferred_attach(request, response) -> None:
    """Give `response` the request's deferred calls, to run when it is closed."""
    for call in request.__dict__.pop(_ATTR, []):
        response._resource_closers.append(_guarded(call))


class DeferredWorkMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        deferred_attach(request, response)
        return response
