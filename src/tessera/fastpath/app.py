"""The fast path's ASGI application (docs/decisions/0020-fast-path.md).

`FastPath(fallback)` answers the hot routes (tessera.fastpath.routes) of requests without a
`Cookie` header: it reads the body, builds the very WSGI environ and `WSGIRequest` the WSGI bridge
(a2wsgi) would build, and runs the lean handler (tessera.fastpath.chain) on a worker thread — no
URL resolving, no per-request WSGI plumbing, none of the cookie/page middlewares. Every other
request, and a body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (replayed as received), goes to
`fallback` (Django behind the WSGI bridge). Cookie-authenticated requests need the session and
CSRF middlewares, so they are Django's too.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from a2wsgi.wsgi import build_environ
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.http import HttpResponse
from django.urls import set_script_prefix, set_urlconf
from django.utils.log import log_response

from tessera.fastpath.chain import build_handler
from tessera.fastpath.routes import hot_views

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _replay(chunks: list[bytes], more: bool, receive: Receive) -> Receive:
    """`receive` for the fallback: the body chunks already read, then the rest of the stream."""
    pending = list(chunks)

    async def replayed() -> Message:
        if pending:
            chunk = pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": more or bool(pending)}
        return await receive()

    return replayed


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class FastPath:
    def __init__(self, fallback: ASGIApp, *, executor: ThreadPoolExecutor | None = None) -> None:
        self.fallback = fallback
        self.views = hot_views()
        self.handler = build_handler(self.views)
        self.executor = executor or ThreadPoolExecutor(
            max_workers=settings.HTTP_THREADS, thread_name_prefix="fastpath"
        )
        self.max_body = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def takes(self, scope: Scope) -> bool:
        """Whether the fast path answers this request (else the fallback does)."""
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in self.views:
            return False
        if scope.get("root_path"):
            return False
        return all(name != b"cookie" for name, _ in scope.get("headers", ()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.takes(scope):
            await self.fallback(scope, receive, send)
            return
        declared = _declared_length(scope)
        if self.max_body is not None and declared is not None and declared > self.max_body:
            await self.fallback(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            chunks.append(chunk)
            size += len(chunk)
            if self.max_body is not None and size > self.max_body:
                await self.fallback(scope, _replay(chunks, more, receive), send)
                return
        await self._answer(scope, b"".join(chunks), send)

    async def _answer(self, scope: Scope, body: bytes, send: Send) -> None:
        loop = asyncio.get_running_loop()
        _request, response = await loop.run_in_executor(self.executor, self._respond, scope, body)
        try:
            headers = [
                *((k.encode("latin1"), v.encode("latin1")) for k, v in response.items()),
                *(
                    (b"set-cookie", c.output(header="").strip().encode("latin1"))
                    for c in response.cookies.values()
                ),
            ]
            content = b"".join(response) if response.streaming else response.content
            await send(
                {"type": "http.response.start", "status": response.status_code, "headers": headers}
            )
            await send({"type": "http.response.body", "body": content})
        finally:
            # deferred work and request_finished (connection clean-up) run on the worker thread,
            # as they do under the WSGI bridge
            await loop.run_in_executor(self.executor, response.close)

    def _respond(self, scope: Scope, body: bytes) -> tuple[WSGIRequest, HttpResponse]:
        """What Django's WSGIHandler does for a request, with the lean handler."""
        environ = cast(dict[str, Any], build_environ(scope, io.BytesIO(body)))  # type: ignore[arg-type]
        set_script_prefix(get_script_name(environ))
        signals.request_started.send(sender=WSGIHandler, environ=environ)
        request = WSGIRequest(environ)
        set_urlconf(settings.ROOT_URLCONF)
        response = self.handler(request)
        response._resource_closers.append(request.close)  # type: ignore[attr-defined]
        if response.status_code >= 400:
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        response._handler_class = WSGIHandler  # type: ignore[attr-defined]
        return request, response


def http_application(
    django_http: ASGIApp, *, executor: ThreadPoolExecutor | None = None
) -> ASGIApp:
    """The served HTTP application: the fast path in front of `django_http`, or (setting
    `FAST_PATH`, env `TESSERA_FAST_PATH=0`) `django_http` alone."""
    if not settings.FAST_PATH:
        return django_http
    return FastPath(django_http, executor=executor)
