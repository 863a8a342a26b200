"""How API endpoints require a caller: the ninja auth classes (a member: `access.guard`).

Authentication itself happens once per request in `tessera.authn.middleware` (which leaves
`request.principal`); these classes only answer that principal to ninja (None → 401) and document
the two ways to send credentials in the OpenAPI document: a Bearer access token, or the session
cookie set by `POST /api/v1/auth/login` with `"cookie": true` (unsafe methods then need the CSRF
header).
"""

from __future__ import annotations

from ninja.security import APIKeyCookie, HttpBearer

from tessera.authn.errors import CsrfFailed
from tessera.authn.request_auth import SESSION_COOKIE


def _principal_or_none(request):
    principal = getattr(request, "principal", None)
    if principal is None and getattr(request, "csrf_failed", False):
        raise CsrfFailed("CSRF verification failed: send the X-CSRFToken header")
    return principal


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <access token>` (a JWT from /api/v1/auth/login)."""

    openapi_bearerFormat = "JWT"

    def __call__(self, request):
        return _principal_or_none(request)

    def authenticate(self, request, token):  # pragma: no cover - __call__ answers
        return getattr(request, "principal", None)


class SessionCookieAuth(APIKeyCookie):
    """The `tessera_session` cookie (login with `"cookie": true`); unsafe methods need CSRF."""

    param_name = SESSION_COOKIE

    def __init__(self) -> None:
        super().__init__(csrf=False)  # CSRF is enforced by tessera.authn.request_auth

    def __call__(self, request):
        return _principal_or_none(request)

    def authenticate(self, request, key):  # pragma: no cover - __call__ answers
        return getattr(request, "principal", None)


principal_auth = [BearerAuth(), SessionCookieAuth()]
"""`Router(auth=principal_auth)`: the request's principal, or 401."""
