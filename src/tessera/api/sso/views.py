"""/api/v1/auth/sso: home-realm discovery, the sign-in start and callback, the code exchange.

Thin transport over tessera.sso.flow. The start sets `tessera_sso` (HttpOnly, SameSite=Lax,
10 minutes, path /api/v1/auth/sso/): the callback continues only in the browser that started
(the attempt stores the cookie's SHA-256), so a `state` sent to someone else's browser is
useless. The callback answers a redirect to `return_to` (a registered origin) with `?code=` or
with the session cookie, or 200 `{code}` without `return_to`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from ninja import Router

from tessera.api.auth.outputs import LoginOut, MfaRequiredOut, session_answer
from tessera.api.problems import Problem
from tessera.api.sso.inputs import DiscoverIn, ExchangeIn
from tessera.api.sso.outputs import CodeOut, DiscoverOut
from tessera.api.transport import require_allowed_origin
from tessera.audit.actors import actor_from_request
from tessera.authn.flows.login import LoginPending, LoginSuccess
from tessera.authn.session_cookie import session_cookie_set
from tessera.sso.flow import sso_callback, sso_exchange, sso_start
from tessera.sso.selectors import provider_for_email, provider_for_sign_in, start_url

router = Router(tags=["single sign-on"])


BROWSER_COOKIE = "tessera_sso"
COOKIE_PATH = "/api/v1/auth/sso/"


def _login_answer(request, response: HttpResponse, outcome, *, cookie: bool):
    if isinstance(outcome, LoginPending):
        return {"mfa_required": True, "mfa_token": outcome.token, **outcome.data}
    assert isinstance(outcome, LoginSuccess)
    assert outcome.tokens is not None  # an SSO sign-in issues tokens (an admin-site one has none)
    if cookie:
        session_cookie_set(
            request, response, outcome.tokens.session, actor=actor_from_request(request)
        )
    return session_answer(
        outcome.tokens,
        user=outcome.user,
        tenant=outcome.tenant,
        password_change_required=outcome.password_change_required,
        mfa_setup_required=outcome.mfa_setup_required,
    )


@router.post(
    "/discover",
    response={200: DiscoverOut, 422: Problem},
    summary="Home-realm discovery: where does this address sign in?",
    description="`{sso: true, provider_id, start_url}` when a verified domain routes the "
    "address to an enabled provider, else `{sso: false}`; the same work either way.",
)
def discover(request, payload: DiscoverIn):
    provider = provider_for_email(payload.email)
    if provider is None:
        return {"sso": False}
    return {"sso": True, "provider_id": str(provider.pk), "start_url": start_url(provider)}


@router.get(
    "/callback",
    response={200: CodeOut, 302: None, 400: Problem, 401: Problem, 403: Problem, 502: Problem},
    summary="Where the identity provider sends the browser back",
    description="Validates state (bound to this browser), the code (with PKCE) and the ID token "
    "(issuer, audience, expiry, nonce, signature, at_hash); then 302 to `return_to` with "
    "`?code=` (mode code) or a session cookie (mode cookie), or 200 `{code}` without return_to. "
    "502 when the provider does not answer (nothing is created).",
)
def callback(
    request,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
):
    outcome = sso_callback(
        state=state,
        code=code,
        error=error,
        error_description=error_description,
        browser=request.COOKIES.get(BROWSER_COOKIE),
        actor=actor_from_request(request),
    )
    if not outcome.return_to:
        response = HttpResponse(
            f'{{"code": "{outcome.code}"}}', content_type="application/json", status=200
        )
    else:
        response = HttpResponseRedirect(outcome.location)
        if outcome.success is not None:
            tokens = outcome.success.tokens
            assert tokens is not None  # an SSO sign-in issues tokens
            session_cookie_set(request, response, tokens.session, actor=actor_from_request(request))
    response["Cache-Control"] = "no-store"
    response.delete_cookie(BROWSER_COOKIE, path=COOKIE_PATH, samesite="Lax")
    return response


@router.post(
    "/exchange",
    response={200: LoginOut | MfaRequiredOut, 400: Problem, 403: Problem, 422: Problem},
    summary="Trade a one-time SSO code for the login answer (once, within 60 s)",
)
def exchange(request, response: HttpResponse, payload: ExchangeIn):
    if payload.cookie:
        require_allowed_origin(request)
    outcome = sso_exchange(code=payload.code, actor=actor_from_request(request))
    return _login_answer(request, response, outcome, cookie=payload.cookie)


@router.get(
    "/{provider_id}/start",
    response={302: None, 400: Problem, 404: Problem, 422: Problem, 502: Problem},
    summary="Start signing in with a tenant's identity provider",
    description="302 to the provider with `state`, `nonce` and a PKCE `code_challenge` (S256). "
    "`return_to` must be at an origin registered for the provider (400 otherwise); `mode` is "
    "`code` (default: the app exchanges a one-time code) or `cookie`. 404 for an unknown or "
    "disabled provider; 502 when the provider's discovery document cannot be fetched.",
)
def start(request, provider_id: str, return_to: str | None = None, mode: str | None = None):
    provider = provider_for_sign_in(provider_id=provider_id)
    started = sso_start(
        provider=provider, return_to=return_to, mode=mode, actor=actor_from_request(request)
    )
    response = HttpResponseRedirect(started.url)
    response["Cache-Control"] = "no-store"
    response.set_cookie(
        BROWSER_COOKIE,
        started.browser,
        max_age=600,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
        path=COOKIE_PATH,
    )
    return response
