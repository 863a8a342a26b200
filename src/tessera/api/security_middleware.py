"""Puts the security headers (`tessera.security_headers`) on every answer Django gives.

It sits outside every other middleware but the request id's, so the answers they make
themselves get the headers too: CORS preflights, 404 and 429 problems, the 500 fallback, static
files. A header already set (the pages' Content-Security-Policy, a view's own) is kept.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tessera.security_headers import security_headers_for_path


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in security_headers_for_path(request.path_info):
            response.headers.setdefault(name, value)
        return response
