"""Access tokens (JWT, EdDSA, PyJWT) and opaque secrets (refresh and reset tokens).

An access token's header is `{"alg": "EdDSA", "typ": "at+jwt", "kid": …}` (RFC 9068) and its claims
are `sub` (user id), `tid` (tenant id or null), `mid` (membership id or null), `sid` (session id),
`jti`, `iat`, `exp`, `iss`, `aud`, `act` (`{"sub": <impersonator's user id>}`, on impersonation
sessions only, RFC 8693), and `roles` (the membership's role slugs when the token was
issued — as fresh as the token, re-read on every refresh; left out when they would not fit in
`ROLES_CLAIM_MAX_CHARS`, so applications then ask `GET /auth/me`). Verification pins all of it:
only EdDSA (so `alg: none` and HMAC-with-the-public-key confusion fail before any key is used),
only `typ: at+jwt` (no other kind of token is ever accepted as an access token), the exact issuer
and audience, and the key must be one of ours by `kid`. The claims say who and where; whether the
session and membership are still alive is asked of `tessera.authn.session_state` on every request.

Refresh and reset tokens are 256-bit random strings, stored only as SHA-256.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone

from tessera.authn import keys
from tessera.authn.errors import TokenInvalid

ACCESS_TYP = "at+jwt"
MAX_TOKEN_LENGTH = 4096
REQUIRED_CLAIMS = ("sub", "sid", "jti", "iat", "exp", "iss", "aud")
ROLES_CLAIM_MAX_CHARS = 1024  # keeps a token well below MAX_TOKEN_LENGTH

_jwt = jwt.PyJWT()


def access_token_issue(
    *,
    user_id,
    session_id,
    tenant_id=None,
    membership_id=None,
    roles=None,
    actor_id=None,
    now: datetime | None = None,
) -> tuple[str, int]:
    """A signed access token for the session and its expiry in seconds.

    `roles`: the membership's role slugs (the `roles` claim; omitted when None or too long).
    `actor_id`: on an impersonation session, the person acting as `user_id` (the RFC 8693 `act`
    claim, `{"sub": <actor_id>}`)."""
    now = now or timezone.now()
    ttl = int(settings.ACCESS_TOKEN_TTL)
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "sub": str(user_id),
        "tid": str(tenant_id) if tenant_id else None,
        "mid": str(membership_id) if membership_id else None,
        "sid": str(session_id),
        "jti": uuid.uuid4().hex,
        "iat": iat,
        "exp": iat + ttl,
    }
    if roles is not None and sum(len(r) + 3 for r in roles) <= ROLES_CLAIM_MAX_CHARS:
        claims["roles"] = [str(r) for r in roles]
    if actor_id is not None:
        claims["act"] = {"sub": str(actor_id)}
    kid, private = keys.signing_key()
    token = jwt.encode(claims, private, algorithm=keys.ALG, headers={"typ": ACCESS_TYP, "kid": kid})
    return token, ttl


class _VerifiedCache:
    """Tokens whose signature and claims already verified in this process, until their `exp`.

    A client sends the same access token for its whole lifetime; remembering the verified claims
    (keyed by the exact token text) spares the signature check on every later request. Expiry is
    still enforced on each hit; the live checks (session, membership) are never cached here.
    """

    def __init__(self, maxsize: int = 8192) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, now: float) -> dict[str, Any] | None:
        found = self._data.get(token)
        if found is None:
            return None
        if now >= found["exp"] + keys.CLOCK_LEEWAY_SECONDS:
            with self._lock:
                self._data.pop(token, None)
            return None
        return found

    def put(self, token: str, claims: dict[str, Any]) -> None:
        with self._lock:
            self._data[token] = claims
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_verified = _VerifiedCache()


def access_token_verify(token: str) -> dict[str, Any]:
    """The claims of a valid access token of ours; TokenInvalid (401) otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenInvalid("The access token is malformed")
    cached = _verified.get(token, time.time())
    if cached is not None:
        return dict(cached)  # a copy: callers cannot alter what later requests get
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenInvalid("The access token is malformed") from None
    if header.get("alg") != keys.ALG:
        raise TokenInvalid("The access token's algorithm is not accepted")
    if header.get("typ") != ACCESS_TYP:
        raise TokenInvalid("Not an access token")
    kid = header.get("kid")
    key = keys.public_key(kid) if isinstance(kid, str) and len(kid) <= 64 else None
    if key is None:
        raise TokenInvalid("The access token's key is unknown or retired")
    try:
        claims = _jwt.decode(
            token,
            key,
            algorithms=[keys.ALG],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            leeway=keys.CLOCK_LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
        )
    except jwt.ExpiredSignatureError:
        raise TokenInvalid("The access token has expired", code="token_expired") from None
    except jwt.PyJWTError:
        raise TokenInvalid("The access token is invalid") from None
    for name in ("sub", "sid", "jti"):
        if not isinstance(claims.get(name), str):
            raise TokenInvalid("The access token is invalid")
    for name in ("tid", "mid"):
        if claims.get(name) is not None and not isinstance(claims[name], str):
            raise TokenInvalid("The access token is invalid")
    if bool(claims.get("tid")) != bool(claims.get("mid")):
        raise TokenInvalid("The access token is invalid")
    act = claims.get("act")
    if act is not None and not (isinstance(act, dict) and isinstance(act.get("sub"), str)):
        raise TokenInvalid("The access token is invalid")
    _verified.put(token, dict(claims))
    return claims


def tokens_clear_cache() -> None:
    """Forget verified tokens (tests, benchmarks)."""
    _verified.clear()
