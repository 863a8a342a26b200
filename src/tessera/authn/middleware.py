"""Authenticates every request once and leaves `request.principal` (or None)."""

from __future__ import annotations

from tessera.api.problems import problem_response
from tessera.authn.request_auth import SESSION_COOKIE, authenticate_request
from tessera.errors import TesseraError


class PrincipalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.principal = authenticate_request(request)
        except TesseraError as exc:
            return problem_response(request, exc)
        response = self.get_response(request)
        if getattr(request, "session_cookie_dead", False):
            response.delete_cookie(SESSION_COOKIE, path="/", samesite="Lax")
        return response
