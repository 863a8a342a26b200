"""Turning a request's credentials into a Principal.

Credentials, in order: `Authorization: Bearer <access JWT>`, then (under /api/) the session cookie
set by a login with `"cookie": true`. The admin site's browser session is not one of them: it
authenticates /admin/ only (tessera.admin_login).
A credential that is present but invalid is refused (401) rather than ignored.

For tokens and cookies the claims only say who and where:
`tessera.authn.session_state.access_state` is asked once per request (one Redis round trip, or one
indexed query without Redis) whether the session is still live and bound to that membership, and
whether the membership and tenant are active — so logout, revocation and deactivation hold on the
very next request in every process. Its answer (policy versions, MFA time, risk score) travels on
the Principal. The idle expiry moves with activity, written at most once a minute per session.

Sessions that must change their password may only call `PASSWORD_CHANGE_PATHS` (403
`password_change_required` elsewhere); sessions of members whose tenant requires MFA they have not
set up yet may only call `MFA_SETUP_PATHS` (403 `mfa_setup_required`).

API keys (`Authorization: Bearer tsk_…` or `X-API-Key: tsk_…`, see tessera.authn.api_keys) are
checked against the same live state (`access_state` without a session); a key that is unknown,
malformed, revoked, expired, used from an address outside its allowlist, or whose membership is
no longer active gets one 401 body. Keys may not call /api/v1/auth/* (but `me` and `ws-ticket`):
signing in, sessions and MFA belong to the person, not to a key.

An impersonation session (its token carries `act`) never changes credentials: the unsafe calls
`tessera.authn.impersonation_limits` lists answer 403 `impersonation_forbidden`.

Unsafe methods authenticated by the cookie need Django's CSRF token (`X-CSRFToken` header
matching the `csrftoken` cookie); without it the cookie does not authenticate the request
(`request.csrf_failed`; endpoints that need a caller answer 403).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from tessera.access.versions import RideAlong
from tessera.authn.api_key_auth import api_key_authenticate
from tessera.authn.errors import (
    ApiKeyNotAllowed,
    CsrfFailed,
    MfaSetupRequired,
    SessionEnded,
    TokenInvalid,
)
from tessera.authn.impersonation_limits import impersonation_refuse_credential_change
from tessera.authn.principal import Principal
from tessera.authn.session_state import access_state
from tessera.authn.sessions import session_touch
from tessera.authn.tokens import access_token_verify
from tessera.errors import NotAuthenticated
from tessera.identity.models import User
from tessera.identity.password_change import ensure_password_changed
from tessera.request_facts import client_ip
from tessera.tenancy.models import Membership

SESSION_COOKIE = "tessera_session"
_COOKIE_SALT = "tessera.authn.session-cookie"
ACTIVITY_WRITE_INTERVAL = timedelta(seconds=60)
PASSWORD_CHANGE_PATHS = frozenset(
    {"/api/v1/auth/me", "/api/v1/auth/password/change", "/api/v1/auth/logout"}
)
MFA_SETUP_PATHS = frozenset(
    {
        "/api/v1/auth/me",
        "/api/v1/auth/mfa/totp/setup",
        "/api/v1/auth/mfa/totp/confirm",
        "/api/v1/auth/logout",
    }
)
AUTH_PREFIX = "/api/v1/auth/"
API_KEY_AUTH_PATHS = frozenset({"/api/v1/auth/me", "/api/v1/auth/ws-ticket"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
API_PREFIX = "/api/"


class KnownIdLazyObject(SimpleLazyObject):
    """A lazily loaded model row whose ids are known up front: reading them loads nothing."""

    def __init__(self, func, **known):
        self.__dict__["_known"] = known
        super().__init__(func)

    def __getattribute__(self, name):
        if name in ("pk", "id", "tenant_id", "user_id"):
            known = object.__getattribute__(self, "__dict__").get("_known", {})
            if name in known:
                return known[name]
        return super().__getattribute__(name)


def _uuid(value):
    """Ids from token claims are strings; rows carry UUIDs — known ids must compare alike."""
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _lazy_user(user_id, membership=None):
    """The caller's user row, loaded on first use: with the membership's row when the credential
    names one (one query for both), else alone."""
    user_id = _uuid(user_id)
    if membership is not None:
        return KnownIdLazyObject(lambda: membership.user, pk=user_id, id=user_id)
    return KnownIdLazyObject(lambda: User.objects.get(pk=user_id), pk=user_id, id=user_id)


def _lazy_membership(membership_id, tenant_id, user_id):
    """The credential's membership row, with its tenant and user, loaded on first use."""
    membership_id, tenant_id, user_id = _uuid(membership_id), _uuid(tenant_id), _uuid(user_id)

    def load():
        return Membership.objects.select_related("tenant", "user").get(pk=membership_id)

    return KnownIdLazyObject(
        load, pk=membership_id, id=membership_id, tenant_id=tenant_id, user_id=user_id
    )


def session_cookie_value(*, session_id, user_id, tenant_id, membership_id) -> str:
    """The signed cookie naming the session, its user and the membership it is bound to."""
    raw = f"{session_id}:{user_id}:{tenant_id or ''}:{membership_id or ''}"
    return signing.Signer(salt=_COOKIE_SALT).sign(raw)


def cookie_claims(value: str) -> tuple[str, str, str | None, str | None]:
    """(session, user, tenant, membership) ids of a session cookie; TokenInvalid if forged."""
    try:
        raw = signing.Signer(salt=_COOKIE_SALT).unsign(value)
        sid, uid, tid, mid = raw.split(":")
    except (signing.BadSignature, ValueError):
        raise TokenInvalid("The session cookie is invalid") from None
    return sid, uid, tid or None, mid or None


def _no_response(request: HttpRequest) -> HttpResponse:
    """The CSRF middleware is asked for its checks only: no response ever passes through it."""
    raise RuntimeError("not a middleware chain")


def _check_csrf(request) -> None:
    middleware = CsrfViewMiddleware(_no_response)
    request.csrf_processing_done = False
    middleware.process_request(request)
    if middleware.process_view(request, _csrf_protected_view, (), {}) is not None:
        raise CsrfFailed("CSRF verification failed: send the X-CSRFToken header")


def _csrf_protected_view(request):  # pragma: no cover - never called, only inspected
    return None


def _budget_counter(request, *, tenant_id, user_id, api_key_id=None) -> RideAlong | None:
    """The request-budget counter to spend with the credential's state: asked of the throttle's
    `ride_along`, which the middleware hands over as `request.budget_counter` (None: none)."""
    counter_for = getattr(request, "budget_counter", None) if request is not None else None
    if counter_for is None:
        return None
    return counter_for(request.path, tenant_id=tenant_id, user_id=user_id, api_key_id=api_key_id)


def _note_spent(request, counter: RideAlong | None, spent: int | None) -> None:
    if counter is not None and spent is not None:
        request.budget_spent = (counter, spent)


def _principal(request, *, method: str, sid, tid, mid, user_id, claims) -> Principal:
    now = timezone.now()
    counter = _budget_counter(request, tenant_id=_uuid(tid), user_id=_uuid(user_id))
    state = access_state(session_id=sid, tenant_id=tid, membership_id=mid, now=now, counter=counter)
    _note_spent(request, counter, state.spent)
    if not state.session_ok:
        raise SessionEnded("The session has ended; sign in again")
    if mid is not None and not state.membership_ok:
        raise SessionEnded("The membership behind this credential is no longer active")
    if state.last_activity_at is not None and now - state.last_activity_at >= (
        ACTIVITY_WRITE_INTERVAL
    ):
        session_touch(session_id=sid, tenant_id=tid, idle_seconds=state.idle_seconds, now=now)
    membership = tenant = None
    if mid is not None:
        membership = _lazy_membership(mid, tid, user_id)
        tenant = KnownIdLazyObject(lambda: membership.tenant, pk=_uuid(tid), id=_uuid(tid))
    return Principal(
        user=_lazy_user(user_id, membership),
        auth_method=method,
        session_id=sid,
        tenant_id=tid,
        membership_id=mid,
        token_claims=claims,
        mfa_verified_at=state.mfa_verified_at,
        risk_score=state.risk_score or 0,
        password_change_required=bool(state.password_change_required),
        mfa_setup_required=bool(state.mfa_setup_required),
        device_trusted=bool(state.device_trusted),
        tenant_version=state.tenant_version,
        membership_version=state.membership_version,
        membership=membership,
        tenant=tenant,
        impersonator_id=(claims.get("act") or {}).get("sub"),
    )


def _from_bearer(request, token: str) -> Principal:
    if token.startswith("tsk_"):
        return _from_api_key(request, token)
    claims = access_token_verify(token)
    return _principal(
        request,
        method="access_token",
        sid=claims["sid"],
        tid=claims.get("tid"),
        mid=claims.get("mid"),
        user_id=claims["sub"],
        claims=claims,
    )


def _from_api_key(request, raw: str) -> Principal:
    def counter(tenant_id, user_id, key_id):
        return _budget_counter(request, tenant_id=tenant_id, user_id=user_id, api_key_id=key_id)

    match = api_key_authenticate(raw, ip=client_ip(request), now=timezone.now(), counter=counter)
    _note_spent(request, match.counter, match.spent)
    membership = _lazy_membership(match.membership_id, match.tenant_id, match.user_id)
    tenant = KnownIdLazyObject(lambda: membership.tenant, pk=match.tenant_id, id=match.tenant_id)
    return Principal(
        user=_lazy_user(match.user_id, membership),
        auth_method="api_key",
        tenant_id=match.tenant_id,
        membership_id=match.membership_id,
        api_key_id=match.key_id,
        scopes=match.scopes,
        tenant_version=match.tenant_version,
        membership_version=match.membership_version,
        membership=membership,
        tenant=tenant,
    )


def _from_cookie(request, value: str) -> Principal:
    sid, uid, tid, mid = cookie_claims(value)
    if request.method not in SAFE_METHODS:
        _check_csrf(request)
    return _principal(
        request, method="session_cookie", sid=sid, tid=tid, mid=mid, user_id=uid, claims={}
    )


def session_cookie_principal(value: str) -> Principal:
    """The principal of a session cookie whose session is live (hosted pages ask it:
    tessera.web.auth; their forms carry Django's CSRF token). TokenInvalid for a forged cookie,
    SessionEnded for a session that ended or a membership no longer active."""
    sid, uid, tid, mid = cookie_claims(value)
    return _principal(
        None, method="session_cookie", sid=sid, tid=tid, mid=mid, user_id=uid, claims={}
    )


def _session_cookie(request) -> str | None:
    """The login's session cookie, for API requests only (the admin UI has its own session)."""
    if not request.path_info.startswith(API_PREFIX):
        return None
    return request.COOKIES.get(SESSION_COOKIE)


def authenticate_request(request) -> Principal | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    api_key = request.META.get("HTTP_X_API_KEY", "")
    cookie = _session_cookie(request)
    if header and api_key:
        raise TokenInvalid("Send one credential: `Authorization` or `X-API-Key`, not both")
    principal: Principal | None
    if header:
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise TokenInvalid("Use `Authorization: Bearer <access token>`")
        principal = _from_bearer(request, credential.strip())
    elif api_key:
        principal = _from_api_key(request, api_key.strip())
    else:
        principal = None
        if cookie:
            # Browsers send cookies unasked: a dead cookie or a failed CSRF check leaves the request
            # unauthenticated (so login still works) instead of failing it; the middleware clears a
            # dead cookie, and the API's auth classes answer 403 `csrf_failed` where a caller is
            # required.
            try:
                principal = _from_cookie(request, cookie)
            except CsrfFailed:
                request.csrf_failed = True
            except NotAuthenticated:
                request.session_cookie_dead = True
        if principal is None:
            # the admin site's browser session never authenticates the API (it is a door of its
            # own, with its own session: tessera.admin_login)
            return None
    if request.path_info not in PASSWORD_CHANGE_PATHS:
        ensure_password_changed(principal)
    if principal.mfa_setup_required and request.path_info not in MFA_SETUP_PATHS:
        raise MfaSetupRequired(
            "Your tenant requires multi-factor authentication: set it up first "
            "(POST /api/v1/auth/mfa/totp/setup, then /api/v1/auth/mfa/totp/confirm)"
        )
    if principal.impersonator_id is not None:
        impersonation_refuse_credential_change(request.method, request.path_info)
    if (
        principal.api_key_id is not None
        and request.path_info.startswith(AUTH_PREFIX)
        and request.path_info not in API_KEY_AUTH_PATHS
    ):
        raise ApiKeyNotAllowed("API keys cannot call the sign-in and session endpoints")
    return principal
