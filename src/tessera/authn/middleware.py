"""Authenticates every request once and leaves `request.principal` (or None).

Failed authentications count against the client IP (tessera.authn.lockout, setting
`RATE_LIMIT_AUTH_FAILURES`): a credential refused here (bad access token, API key, session
cookie), and any 401 answered by the sign-in endpoints (/api/v1/auth/*: a wrong password,
refresh token or MFA code). Past the limit, refused credentials answer 429 with `Retry-After`
instead of 401, and so does every request to the sign-in endpoints from that IP — a flood of
guessed tokens or API keys is throttled as guessed passwords are. Valid credentials from the same
address keep working (offices share one), and cost no extra look-up.
"""

from __future__ import annotations

from tessera.api.throttle import ride_along
from tessera.authn import lockout
from tessera.authn.errors import TooManyAttempts
from tessera.authn.request_auth import AUTH_PREFIX, SESSION_COOKIE, authenticate_request
from tessera.errors import NotAuthenticated, TesseraError
from tessera.problems import problem_response
from tessera.request_facts import client_ip

API_PREFIX = "/api/"
# paths that authenticate with a credential of their own (the SCIM token: tessera.scim.tokens;
# the metrics token: tessera.api.metrics_scrape)
OWN_CREDENTIAL_PREFIXES = ("/scim/", "/metrics")
AUTH_FAILURES_DETAIL = "Too many failed authentications from this address. Try again later."


def _too_many(request, wait: int):
    return problem_response(request, TooManyAttempts(AUTH_FAILURES_DETAIL, retry_after=wait))


class PrincipalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(OWN_CREDENTIAL_PREFIXES):
            request.principal = None
            return self.get_response(request)
        api = path.startswith(API_PREFIX)
        sign_in = api and path.startswith(AUTH_PREFIX) and request.method == "POST"
        if sign_in:
            wait = lockout.auth_failures_blocked(ip=client_ip(request))
            if wait:
                request.principal = None
                return _too_many(request, wait)
        request.budget_counter = ride_along  # spent with the credential's state (throttle)
        try:
            request.principal = authenticate_request(request)
        except TesseraError as exc:
            if api and isinstance(exc, NotAuthenticated):
                wait = lockout.auth_failure_record(ip=client_ip(request))
                if wait:
                    return _too_many(request, wait)
            return problem_response(request, exc)
        response = self.get_response(request)
        if sign_in and response.status_code == 401:
            lockout.auth_failure_record(ip=client_ip(request))
        if getattr(request, "session_cookie_dead", False):
            response.delete_cookie(SESSION_COOKIE, path="/", samesite="Lax")
        return response
