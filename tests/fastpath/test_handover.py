"""What the fast path hands to Django: other routes and methods, cookie requests, large bodies
(replayed whole); and `TESSERA_FAST_PATH=0` (setting FAST_PATH) turns it off."""

from __future__ import annotations

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import override_settings

from tessera.fastpath.app import FastPath, http_application


class RecordingFallback:
    """Stands for Django: records what it was handed (and the whole body it received)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

    async def __call__(self, scope, receive, send):
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.seen.append((scope["method"], scope["path"], body))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"fallback"})


async def _send(app, method, path, **kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, path, **kwargs)


def _send_sync(app, method, path, **kwargs) -> httpx.Response:
    return async_to_sync(_send)(app, method, path, **kwargs)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/v1/authz/check", {}),
        ("POST", "/api/v1/auth/me", {}),
        ("POST", "/api/v1/auth/login", {}),
        ("GET", "/api/v1/users", {}),
        ("GET", "/api/v1/auth/me/", {}),
        ("GET", "/api/v1/auth/me", {"Cookie": "tessera_session=abc"}),
        ("POST", "/api/v1/authz/check", {"Cookie": "csrftoken=x"}),
        ("POST", "/scim/v2/Users", {}),
        ("GET", "/scim/v2/Users/.search", {}),
        ("GET", "/scim/v2/Users", {"Cookie": "tessera_session=abc"}),
    ],
)
def test_other_routes_and_cookie_requests_go_to_django(db, method, path, headers):
    fallback = RecordingFallback()
    response = _send_sync(FastPath(fallback), method, path, headers=headers, content=b"{}")
    assert response.status_code == 299
    assert fallback.seen == [(method, path, b"{}")]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_large_body_goes_to_django_whole(db):
    fallback = RecordingFallback()
    app = FastPath(fallback)
    declared = b'{"action": "' + b"a" * 2000 + b'"}'
    response = _send_sync(app, "POST", "/api/v1/authz/check", content=declared)
    assert response.status_code == 299

    async def chunks():  # no Content-Length: the fast path reads past the limit, then replays
        for _ in range(5):
            yield b"x" * 400

    response = _send_sync(app, "POST", "/api/v1/authz/check", content=chunks())
    assert response.status_code == 299
    assert fallback.seen == [
        ("POST", "/api/v1/authz/check", declared),
        ("POST", "/api/v1/authz/check", b"x" * 2000),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_fast_path_answers_its_routes_itself():
    fallback = RecordingFallback()
    response = _send_sync(FastPath(fallback), "GET", "/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["X-Request-ID"]
    assert fallback.seen == []


def test_the_fast_path_can_be_turned_off(db):
    fallback = RecordingFallback()
    with override_settings(FAST_PATH=False):
        assert http_application(fallback) is fallback
    with override_settings(FAST_PATH=True):
        assert isinstance(http_application(fallback), FastPath)


class PassThroughMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


class ExceptionHookMiddleware(PassThroughMiddleware):
    """A middleware with a phase the fast chain does not run (`process_exception`)."""

    def process_exception(self, request, exception):
        return None


class ViewHookMiddleware(PassThroughMiddleware):
    """Answers before the view, as `process_view` may."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        return HttpResponse(b"from process_view", status=418)


def test_a_middleware_with_an_exception_phase_stops_the_fast_path_from_starting(db):
    path = f"{__name__}.ExceptionHookMiddleware"
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, path]):
        with pytest.raises(ImproperlyConfigured, match="ExceptionHookMiddleware has process_exc"):
            FastPath(RecordingFallback())


@pytest.mark.django_db(transaction=True)
def test_a_middlewares_process_view_runs_on_the_fast_path():
    """As in Django's handler: the view phase runs, and its answer replaces the view's."""
    fallback = RecordingFallback()
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, f"{__name__}.ViewHookMiddleware"]):
        app = FastPath(fallback)
        response = _send_sync(app, "POST", "/api/v1/authz/check", json={"action": "user:read"})
    assert response.status_code == 418  # (the problem fallback words it, as it does in Django)
    assert fallback.seen == []
