"""Local verification of Tessera access tokens against the server's JWKS.

The key set is fetched once and kept. It is fetched again only when a token names a `kid` it does
not hold (Tessera rotated its signing key) or when it is older than `max_age`, and never more often
than once per `min_refresh_interval`: a flood of tokens with made-up `kid`s costs one request to
Tessera per interval, not one per token. Concurrent callers share one fetch.

A token is refused (`TesseraUnauthenticated`) without any request to Tessera when it is malformed,
too large, signed with an algorithm other than EdDSA or ES256, not typed `at+jwt`, badly signed,
expired, not yet valid, for another audience, from another issuer, or (when the verifier is pinned
to tenants) for another tenant.

A token that verified is remembered (bounded, `remember=`): seen again, it skips the signature
check — but not the expiry check — for as long as the key that signed it is still held.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

import jwt

from .errors import TesseraUnauthenticated, TesseraUnavailable
from .models import Principal

log = logging.getLogger("tessera_client")

#: The only signature algorithms accepted. Never HS* (a public key is not a shared secret) or none.
ALGORITHMS: tuple[str, ...] = ("EdDSA", "ES256")
_KEY_TYPES = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}
_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
MAX_TOKEN_BYTES = 8192
_FAILED_FIRST_FETCH_BACKOFF = 1.0


class KeySet:
    """Tessera's public signing keys by `kid`, with the refresh policy described above.

    Thread-safe; usable from sync code (`get`) and from any number of event loops (`aget`).
    `clock` is injectable for tests.
    """

    def __init__(
        self,
        *,
        min_refresh_interval: float = 10.0,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_refresh_interval = min_refresh_interval
        self.max_age = max_age
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at: float | None = None
        self._last_attempt: float | None = None
        self._lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.fetch_count = 0

    # -- state ---------------------------------------------------------------------------------

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def load(self, document: Mapping[str, Any]) -> None:
        """Replace the keys with those of a JWK Set document (unusable keys are skipped)."""
        keys = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(keys, list):
            raise TesseraUnavailable("Tessera's JWKS is not a JWK Set")
        parsed: dict[str, jwt.PyJWK] = {}
        for entry in keys:
            key = _parse_jwk(entry)
            if key is not None:
                parsed[entry["kid"]] = key
        if not parsed:
            raise TesseraUnavailable("Tessera's JWKS holds no usable EdDSA or ES256 key")
        self._keys = parsed
        self._loaded_at = self._clock()

    def _should_fetch(self, kid: str) -> bool:
        now = self._clock()
        if self._last_attempt is not None:
            wait = self.min_refresh_interval
            if self._loaded_at is None:
                wait = min(wait, _FAILED_FIRST_FETCH_BACKOFF)
            if now - self._last_attempt < wait:
                return False
        if self._loaded_at is None or kid not in self._keys:
            return True
        return now - self._loaded_at >= self.max_age

    def _apply(self, document: Mapping[str, Any] | None, error: Exception | None) -> bool:
        """Take a fetch's outcome; True when it failed and the keys held are kept."""
        if error is None and document is not None:
            try:
                self.load(document)
                return False
            except TesseraUnavailable as exc:
                error = exc
        if self._loaded_at is None:
            if isinstance(error, TesseraUnavailable):
                raise error
            raise TesseraUnavailable(f"cannot fetch Tessera's JWKS: {error}")
        log.warning("tessera_client: JWKS refresh failed, keeping the keys held: %s", error)
        return True

    def _result(self, kid: str, fetch_failed: bool = False) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._loaded_at is None:
            raise TesseraUnavailable("Tessera's signing keys could not be fetched yet")
        if fetch_failed:
            raise TesseraUnavailable("token names an unknown key and Tessera's JWKS is unreachable")
        raise TesseraUnauthenticated("token signed with an unknown key")

    def _claim(self, kid: str) -> bool:
        """Under the thread lock: whether this caller is the one to fetch now."""
        if not self._should_fetch(kid):
            return False
        self._last_attempt = self._clock()
        self.fetch_count += 1
        return True

    # -- lookups -------------------------------------------------------------------------------

    def _held(self, kid: str) -> jwt.PyJWK | None:
        """The key for `kid` when it is held and no fetch is due (the lock-free fast path)."""
        key = self._keys.get(kid)
        if key is None or self._should_fetch(kid):
            return None
        return key

    def peek(self, kid: str) -> jwt.PyJWK | None:
        """The key for `kid` when it is held and no fetch is due; else None (no I/O, no wait)."""
        return self._held(kid)

    def get(self, kid: str, fetch: Callable[[], Mapping[str, Any]]) -> jwt.PyJWK:
        """The key for `kid`, fetching the set with `fetch()` when the policy allows.

        Callers arriving while a fetch is in flight wait for its outcome.
        """
        key = self._held(kid)
        if key is not None:
            return key
        with self._lock:  # held during the fetch
            if not self._claim(kid):
                return self._result(kid)
            try:
                document, error = fetch(), None
            except Exception as exc:  # noqa: BLE001 - any failure to fetch is "unavailable"
                document, error = None, exc
            return self._result(kid, self._apply(document, error))

    async def aget(self, kid: str, fetch: Callable[[], Awaitable[Mapping[str, Any]]]) -> jwt.PyJWK:
        """`get` for async code: the coroutines of one event loop share one fetch."""
        key = self._held(kid)
        if key is not None:
            return key
        loop = asyncio.get_running_loop()
        with self._lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
        async with lock:  # held during the fetch: the loop's other callers wait for it
            with self._lock:
                claimed = self._claim(kid)
            if not claimed:
                return self._result(kid)
            try:
                document, error = await fetch(), None
            except Exception as exc:  # noqa: BLE001
                document, error = None, exc
            with self._lock:
                failed = self._apply(document, error)
            return self._result(kid, failed)


def _parse_jwk(entry: Any) -> jwt.PyJWK | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("kid"), str):
        return None
    if entry.get("use", "sig") != "sig":
        return None
    try:
        key = jwt.PyJWK(dict(entry))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    expected = _KEY_TYPES.get(key.algorithm_name)
    if expected is None or (entry.get("kty"), entry.get("crv")) != expected:
        return None
    return key


TENANT_PIN_REQUIRED = (
    "Say which tenants this application serves: tenant_ids=['<tenant id>', ...] (tokens of any "
    "other tenant are refused with 401), or any_tenant=True for a multi-tenant application (which "
    "must then scope every read and write by principal.tenant_id). A tenant's id is `tenant.id` "
    "in Tessera's login answer, or `id` in GET /api/v1/tenant."
)


def tenant_pin(tenant_ids: Collection[str] | None, any_tenant: bool) -> frozenset[str] | None:
    """The tenant ids to pin to, or None for `any_tenant=True`; ValueError unless exactly one of
    the two was chosen (accepting every tenant's tokens is never a silent default)."""
    if isinstance(tenant_ids, str):
        raise TypeError("tenant_ids must be a list of tenant ids, not one string")
    if any_tenant:
        if tenant_ids is not None:
            raise ValueError("pass tenant_ids or any_tenant=True, not both")
        return None
    if tenant_ids is None:
        raise ValueError(TENANT_PIN_REQUIRED)
    pinned = frozenset(str(t).strip() for t in tenant_ids if str(t).strip())
    if not pinned:
        raise ValueError("tenant_ids is empty: it would refuse every token. " + TENANT_PIN_REQUIRED)
    return pinned


class TokenVerifier:
    """Verifies access tokens: signature (EdDSA/ES256 only), `typ`, `exp`/`nbf`/`iat`, `iss`, `aud`,
    and the tenant.

    Exactly one of `tenant_ids` (pin the application to those tenants: a token whose `tid` is not
    among them is refused like a token for another audience) or `any_tenant=True` (every tenant's
    tokens; the application scopes by `principal.tenant_id`) is required.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str = "tessera",
        keys: KeySet | None = None,
        leeway: float = 10.0,
        tenant_ids: Collection[str] | None = None,
        any_tenant: bool = False,
        algorithms: Collection[str] = ALGORITHMS,
        remember: int = 4096,
    ) -> None:
        """`remember`: how many verified tokens to remember (0: none), so that a token seen
        again skips the signature check until it expires (or its key leaves the key set)."""
        unknown = set(algorithms) - set(ALGORITHMS)
        if unknown or not algorithms:
            raise ValueError(f"algorithms must be among {ALGORITHMS}, not {sorted(unknown)}")
        self.issuer = issuer
        self.audience = audience
        self.keys = keys if keys is not None else KeySet()
        self.leeway = leeway
        self.tenant_ids = tenant_pin(tenant_ids, any_tenant)
        self.algorithms = tuple(algorithms)
        self.remember = max(0, int(remember))
        self._verified: OrderedDict[str, tuple[Principal, float, str, jwt.PyJWK]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def _recall(self, token: str) -> Principal | None:
        """A token verified before, still unexpired and signed by a key still held."""
        entry = self._verified.get(token)
        if entry is None:
            return None
        principal, exp, kid, key = entry
        if time.time() < exp + self.leeway and self.keys._keys.get(kid) is key:
            return principal
        with self._verified_lock:
            self._verified.pop(token, None)
        return None

    def _remember(self, token: str, principal: Principal, kid: str, key: jwt.PyJWK) -> None:
        if not self.remember:
            return
        with self._verified_lock:
            self._verified[token] = (principal, principal.expires_at.timestamp(), kid, key)
            while len(self._verified) > self.remember:
                self._verified.popitem(last=False)

    def header(self, token: str) -> tuple[str, str]:
        """The (kid, alg) of a token's header, after the checks that need no key."""
        if not isinstance(token, str) or not token:
            raise TesseraUnauthenticated("missing access token")
        if len(token) > MAX_TOKEN_BYTES:
            raise TesseraUnauthenticated("access token too large")
        segment = token.partition(".")[0]
        try:  # only a pre-check: jwt.decode parses and checks the whole token again
            header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        except (ValueError, TypeError):
            raise TesseraUnauthenticated("malformed access token") from None
        if not isinstance(header, dict) or token.count(".") != 2:
            raise TesseraUnauthenticated("malformed access token")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TesseraUnauthenticated("access token signed with a refused algorithm")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _TOKEN_TYPES:
            raise TesseraUnauthenticated("not an access token (typ must be at+jwt)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TesseraUnauthenticated("access token without a key id")
        return kid, alg

    def decode(self, token: str, key: jwt.PyJWK, alg: str) -> Principal:
        """Check the signature and claims of `token` with `key`."""
        if key.algorithm_name != alg:
            raise TesseraUnauthenticated("access token algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TesseraUnauthenticated("access token expired") from None
        except jwt.InvalidAudienceError:
            raise TesseraUnauthenticated("access token for another audience") from None
        except jwt.InvalidIssuerError:
            raise TesseraUnauthenticated("access token from another issuer") from None
        except jwt.InvalidSignatureError:
            raise TesseraUnauthenticated("access token signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise TesseraUnauthenticated(f"invalid access token: {exc}") from None
        sub = claims.get("sub")
        if not isinstance(sub, str | int) or sub == "":
            raise TesseraUnauthenticated("access token without a subject")
        tid = claims.get("tid")
        if self.tenant_ids is not None and (tid is None or str(tid) not in self.tenant_ids):
            raise TesseraUnauthenticated("access token for another tenant")
        return Principal.from_claims(claims, token)

    def _decode_and_remember(self, token: str, kid: str, alg: str, key: jwt.PyJWK) -> Principal:
        principal = self.decode(token, key, alg)
        self._remember(token, principal, kid, key)
        return principal

    def verify_held(self, token: str) -> Principal | None:
        """Verify with the keys held, or None when the key set must be fetched first."""
        if isinstance(token, str) and (known := self._recall(token)) is not None:
            return known
        kid, alg = self.header(token)
        key = self.keys.peek(kid)
        return None if key is None else self._decode_and_remember(token, kid, alg, key)

    def verify(self, token: str, fetch: Callable[[], Mapping[str, Any]]) -> Principal:
        if isinstance(token, str) and (known := self._recall(token)) is not None:
            return known
        kid, alg = self.header(token)
        return self._decode_and_remember(token, kid, alg, self.keys.get(kid, fetch))

    async def averify(
        self, token: str, fetch: Callable[[], Awaitable[Mapping[str, Any]]]
    ) -> Principal:
        if isinstance(token, str) and (known := self._recall(token)) is not None:
            return known
        kid, alg = self.header(token)
        return self._decode_and_remember(token, kid, alg, await self.keys.aget(kid, fetch))
