"""The clients: `TesseraClient` (sync) and `AsyncTesseraClient` (asyncio), one behaviour.

Each operation is written once as a generator that yields the HTTP requests it needs and receives
their JSON answers; the sync and async clients only differ in how they send them.

Whose credential a call carries: `principal=` (a verified token: the end user's own, forwarded),
else `token=` (a raw access token, forwarded as is), else the client's `api_key` (the
application's own identity; asking about another member with `subject_id=` needs
`authz:check_others`).
The decision cache, when on, is used only with `principal=` or the API key — never with a raw
token, whose claims are not verified by the client.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Collection, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from . import __version__
from .cache import DecisionCache
from .errors import TesseraError, TesseraUnauthenticated, TesseraUnavailable, error_from_response
from .models import (
    Check,
    Decision,
    Explanation,
    FieldAccess,
    Me,
    Principal,
    Resource,
)
from .tokens import KeySet, TokenVerifier

JWKS_PATH = "/.well-known/jwks.json"
CHECK_PATH = "/api/v1/authz/check"
BATCH_PATH = "/api/v1/authz/check/batch"
EXPLAIN_PATH = "/api/v1/authz/explain"
FIELDS_PATH = "/api/v1/authz/fields"
ME_PATH = "/api/v1/auth/me"
ACCEPT_INVITATION_PATH = "/api/v1/auth/invitations/accept"
VERIFY_EMAIL_PATH = "/api/v1/auth/email/verify"
CONFIRM_EMAIL_PATH = "/api/v1/auth/email/verify/confirm"
PROFILE_FIELDS = ("first_name", "last_name", "phone", "timezone", "language", "avatar_url")
MAX_BATCH = 1000

#: Transport failures worth another try: the request never reached Tessera, or the connection
#: broke under it. Reads (decisions, me) are safe to repeat. Timeouts waiting for an answer and
#: every HTTP status (4xx and 5xx) are never retried.
RETRYABLE = (httpx.NetworkError, httpx.ConnectTimeout, httpx.RemoteProtocolError)
#: Writes (accepting an invitation, confirming an address, editing the profile) are retried only
#: when the connection was never made: a single-use token must not be spent twice.
RETRYABLE_WRITE = (httpx.ConnectError, httpx.ConnectTimeout)

T = TypeVar("T")
ResourceLike = Resource | Mapping[str, Any] | str | None


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    credential: str | None
    json: Any = None
    params: Mapping[str, str] | None = None
    write: bool = False

    @property
    def retryable(self) -> tuple[type[Exception], ...]:
        return RETRYABLE_WRITE if self.write else RETRYABLE


Op = Generator[_Request, Any, T]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _check_action(action: str) -> None:
    if not isinstance(action, str) or action.count(":") != 1 or action.startswith(":"):
        raise ValueError(f"action must be 'resource:action', not {action!r}")


class _Base:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        issuer: str | None = None,
        audience: str = "tessera",
        tenant_ids: Collection[str] | None = None,
        any_tenant: bool = False,
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.05,
        decision_cache: DecisionCache | float | None = None,
        keys: KeySet | None = None,
        verifier: TokenVerifier | None = None,
        headers: Mapping[str, str] | None = None,
        transport: Any = None,
    ) -> None:
        """
        base_url: where the application reaches Tessera, e.g. "https://iam.example.com".
        api_key: the application's own `tsk_...` key, used when no end-user credential is given.
        issuer: the `iss` tokens must carry (Tessera's TESSERA_JWT_ISSUER); default `base_url`.
        audience: the `aud` tokens must carry (TESSERA_JWT_AUDIENCE); default "tessera".
        tenant_ids: the tenants (ids) this application serves; tokens of others are refused.
        any_tenant: True instead of tenant_ids for a multi-tenant application (it scopes by
            `principal.tenant_id`). One of the two is required (unless `verifier` is given).
        timeout / connect_timeout: seconds, per request.
        retries: further tries after a connection error (never after an HTTP answer).
        decision_cache: a DecisionCache, or a TTL in seconds to make one; None (default) = off.
        keys / verifier: share a KeySet / TokenVerifier between clients.
        transport: an httpx transport (tests pass httpx.MockTransport).
        """
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        if verifier is None:
            verifier = TokenVerifier(
                issuer=issuer if issuer is not None else self.base_url,
                audience=audience,
                keys=keys,
                tenant_ids=tenant_ids,
                any_tenant=any_tenant,
            )
        self.verifier = verifier
        if isinstance(decision_cache, bool):
            raise TypeError("decision_cache must be a DecisionCache, a TTL in seconds, or None")
        if isinstance(decision_cache, int | float):
            decision_cache = DecisionCache(ttl=float(decision_cache)) if decision_cache else None
        if decision_cache is not None and not isinstance(decision_cache, DecisionCache):
            raise TypeError("decision_cache must be a DecisionCache, a TTL in seconds, or None")
        self.cache: DecisionCache | None = decision_cache
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._headers = {
            "Accept": "application/json",
            "User-Agent": f"tessera-client/{__version__}",
            **(headers or {}),
        }
        self._transport = transport
        self._options = {
            "api_key": api_key,
            "timeout": timeout,
            "connect_timeout": connect_timeout,
            "retries": retries,
            "backoff": backoff,
            "headers": headers,
        }

    # -- pieces shared by both clients ---------------------------------------------------------

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "base_url": self.base_url,
            "timeout": self._timeout,
            "headers": self._headers,
            "follow_redirects": False,
            "limits": httpx.Limits(max_connections=100, max_keepalive_connections=20),
        }
        if self._transport is not None:
            kwargs["transport"] = self._transport
        return kwargs

    def _delay(self, attempt: int) -> float:
        return self.backoff * (2**attempt) * (0.5 + random.random())  # noqa: S311 - jitter

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        if 200 <= response.status_code < 300:
            if response.status_code == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise TesseraUnavailable(
                    "Tessera answered with something that is not JSON"
                ) from None
        if 300 <= response.status_code < 400:
            raise TesseraUnavailable(f"Tessera answered {response.status_code} (a redirect)")
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        raise error_from_response(
            response.status_code, problem, response.headers.get("Retry-After")
        )

    def _request_headers(self, credential: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {credential}"} if credential else {}

    def _credential(self, principal: Principal | None, token: str | None) -> str:
        if principal is not None:
            return principal.token
        if token:
            return token
        if self.api_key:
            return self.api_key
        raise TesseraUnauthenticated("no credential: pass principal= or token=, or set api_key")

    def _scope(self, principal: Principal | None, token: str | None) -> tuple[Any, ...] | None:
        """Whose cache entries a call may use, or None when it must not use the cache."""
        if self.cache is None:
            return None
        if principal is not None:
            return ("user", principal.tenant_id, principal.user_id, principal.session_id)
        if token is None and self.api_key:
            return ("api_key", self.api_key)
        return None

    def _cache_put(self, scope, key, value, *, principal, subject_id, generation) -> None:
        assert self.cache is not None
        caller = principal.user_id if principal is not None else None
        tenant = principal.tenant_id if principal is not None else None
        self.cache.put(
            key, value, tenant_id=tenant, user_ids=(caller, subject_id), generation=generation
        )

    def invalidate(self, user_id: str | None = None, tenant_id: str | None = None) -> int:
        """Drop cached decisions about `user_id` / in `tenant_id` (all when neither is given).

        This is the hook a `permissions.changed` subscriber calls; a no-op with the cache off.
        """
        if self.cache is None:
            return 0
        return self.cache.invalidate(user_id=user_id, tenant_id=tenant_id)

    # -- operations (generators; see the module docstring) -------------------------------------

    def _op_check(
        self,
        action: str,
        resource: ResourceLike,
        *,
        principal: Principal | None,
        token: str | None,
        context: Mapping[str, Any] | None,
        subject_id: str | None,
    ) -> Op[Decision]:
        _check_action(action)
        body = Check(action, resource, context, subject_id).to_dict()
        credential = self._credential(principal, token)
        scope = self._scope(principal, token)
        if scope is not None:
            assert self.cache is not None
            key = self.cache.key(scope, "check", body)
            hit = self.cache.get(key)
            if hit is not None:
                return Decision(hit, cached=True)
            generation = self.cache.generation
        data = yield _Request("POST", CHECK_PATH, credential, body)
        allowed = _allowed(data)
        if scope is not None:
            self._cache_put(
                scope,
                key,
                allowed,
                principal=principal,
                subject_id=subject_id,
                generation=generation,
            )
        return Decision(allowed)

    def _op_check_batch(
        self,
        checks: Iterable[Check | Mapping[str, Any]],
        *,
        principal: Principal | None,
        token: str | None,
    ) -> Op[list[Decision]]:
        bodies: list[dict[str, Any]] = []
        subjects: list[str | None] = []
        for item in checks:
            if isinstance(item, Check):
                body = item.to_dict()
            else:
                body = Check(
                    item["action"],
                    item.get("resource"),
                    item.get("context"),
                    item.get("subject_id"),
                ).to_dict()
            _check_action(body["action"])
            bodies.append(body)
            subjects.append(body.get("subject_id"))
        credential = self._credential(principal, token)
        scope = self._scope(principal, token)
        results: list[Decision | None] = [None] * len(bodies)
        keys: list[Any] = [None] * len(bodies)
        generation = 0
        if scope is not None:
            assert self.cache is not None
            generation = self.cache.generation
            for i, body in enumerate(bodies):
                keys[i] = self.cache.key(scope, "check", body)
                hit = self.cache.get(keys[i])
                if hit is not None:
                    results[i] = Decision(hit, cached=True)
        missing = [i for i, r in enumerate(results) if r is None]
        for start in range(0, len(missing), MAX_BATCH):
            chunk = missing[start : start + MAX_BATCH]
            data = yield _Request(
                "POST", BATCH_PATH, credential, {"checks": [bodies[i] for i in chunk]}
            )
            answers = data.get("results") if isinstance(data, dict) else None
            if not isinstance(answers, list) or len(answers) != len(chunk):
                raise TesseraUnavailable("Tessera's batch answer does not match the questions")
            for i, answer in zip(chunk, answers, strict=True):
                allowed = _allowed(answer)
                results[i] = Decision(allowed)
                if scope is not None:
                    self._cache_put(
                        scope,
                        keys[i],
                        allowed,
                        principal=principal,
                        subject_id=subjects[i],
                        generation=generation,
                    )
        return [r for r in results if r is not None]

    def _op_explain(
        self,
        action: str,
        resource: ResourceLike,
        *,
        principal: Principal | None,
        token: str | None,
        context: Mapping[str, Any] | None,
        subject_id: str | None,
    ) -> Op[Explanation]:
        _check_action(action)
        body = Check(action, resource, context, subject_id).to_dict()
        data = yield _Request("POST", EXPLAIN_PATH, self._credential(principal, token), body)
        allowed = _allowed(data)
        return Explanation(
            allowed=allowed,
            reason=str(data.get("reason") or ""),
            matched=tuple(data.get("matched") or ()),
            evaluated=tuple(data.get("evaluated") or ()),
            raw=data,
        )

    def _op_fields(
        self,
        resource_type: str,
        *,
        principal: Principal | None,
        token: str | None,
        subject_id: str | None,
    ) -> Op[FieldAccess]:
        params = {"resource_type": resource_type}
        if subject_id is not None:
            params["subject_id"] = str(subject_id)
        credential = self._credential(principal, token)
        scope = self._scope(principal, token)
        if scope is not None:
            assert self.cache is not None
            key = self.cache.key(scope, "fields", params)
            hit = self.cache.get(key)
            if hit is not None:
                return hit
            generation = self.cache.generation
        data = yield _Request("GET", FIELDS_PATH, credential, params=params)
        if not isinstance(data, dict):
            raise TesseraUnavailable("Tessera's fields answer is not an object")
        result = FieldAccess(
            readable=frozenset(map(str, data.get("readable") or ())),
            writable=frozenset(map(str, data.get("writable") or ())),
        )
        if scope is not None:
            self._cache_put(
                scope,
                key,
                result,
                principal=principal,
                subject_id=subject_id,
                generation=generation,
            )
        return result

    def _op_me(self, *, principal: Principal | None, token: str | None) -> Op[Me]:
        credential = self._credential(principal, token)
        scope = self._scope(principal, token)
        if scope is not None:
            assert self.cache is not None
            key = self.cache.key(scope, "me", None)
            hit = self.cache.get(key)
            if hit is not None:
                return hit
            generation = self.cache.generation
        data = yield _Request("GET", ME_PATH, credential)
        if not isinstance(data, dict) or not isinstance(data.get("user"), dict):
            raise TesseraUnavailable("Tessera's me answer has no user")
        result = Me(
            user=data["user"],
            tenant=data.get("tenant") if isinstance(data.get("tenant"), dict) else None,
            membership=data.get("membership") if isinstance(data.get("membership"), dict) else None,
            roles=tuple(str(r) for r in data.get("roles") or ()),
            permissions=tuple(str(p) for p in data.get("permissions") or ()),
            raw=data,
        )
        if scope is not None:
            self._cache_put(
                scope, key, result, principal=principal, subject_id=None, generation=generation
            )
        return result

    # -- the person's own account (no application credential involved) ----------------------

    def _op_accept_invitation(self, token: str, password: str | None) -> Op[dict[str, Any]]:
        if not isinstance(token, str) or not token:
            raise ValueError("token must be the invitation link's token")
        body: dict[str, Any] = {"token": token}
        if password is not None:
            body["password"] = password
        data = yield _Request("POST", ACCEPT_INVITATION_PATH, None, json=body, write=True)
        if not isinstance(data, dict):
            raise TesseraUnavailable("Tessera's answer to an acceptance is not an object")
        return data

    def _op_request_email_verification(self, email: str) -> Op[None]:
        yield _Request("POST", VERIFY_EMAIL_PATH, None, json={"email": email}, write=True)
        return None

    def _op_confirm_email(self, token: str, password: str | None) -> Op[None]:
        body: dict[str, Any] = {"token": token}
        if password is not None:
            body["password"] = password
        yield _Request("POST", CONFIRM_EMAIL_PATH, None, json=body, write=True)
        return None

    def _op_update_me(
        self, changes: Mapping[str, Any], *, principal: Principal | None, token: str | None
    ) -> Op[dict[str, Any]]:
        unknown = sorted(set(changes) - set(PROFILE_FIELDS))
        if unknown:
            raise ValueError(f"not profile fields: {unknown}; allowed: {list(PROFILE_FIELDS)}")
        if principal is None and not token:
            raise TesseraUnauthenticated("update_me needs the person's principal= or token=")
        credential = self._credential(principal, token)
        data = yield _Request("PATCH", ME_PATH, credential, json=dict(changes), write=True)
        if not isinstance(data, dict):
            raise TesseraUnavailable("Tessera's profile answer is not an object")
        if principal is not None:
            self.invalidate(user_id=principal.user_id)  # a cached `me` shows the old profile
        return data


def _allowed(data: Any) -> bool:
    """The `allowed` of an answer, refusing anything that is not a real boolean (fail closed)."""
    allowed = data.get("allowed") if isinstance(data, dict) else None
    if not isinstance(allowed, bool):
        raise TesseraUnavailable("Tessera's decision has no boolean 'allowed'")
    return allowed


class TesseraClient(_Base):
    """The synchronous client. Thread-safe; reuse one per process (it pools connections)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._http = httpx.Client(**self._client_kwargs())

    def __enter__(self) -> TesseraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def to_async(self) -> AsyncTesseraClient:
        """An async client with the same settings, sharing the key set and the decision cache."""
        return AsyncTesseraClient(
            self.base_url,
            verifier=self.verifier,
            decision_cache=self.cache,
            transport=self._transport,
            **self._options,
        )

    def _send(self, request: _Request) -> Any:
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    request.method,
                    request.path,
                    json=request.json,
                    params=request.params,
                    headers=self._request_headers(request.credential),
                )
            except request.retryable as exc:
                if attempt >= self.retries:
                    raise TesseraUnavailable(f"cannot reach Tessera: {exc!r}") from exc
                time.sleep(self._delay(attempt))
                attempt += 1
                continue
            except httpx.HTTPError as exc:
                raise TesseraUnavailable(f"Tessera did not answer: {exc!r}") from exc
            return self._answer(response)

    def _run(self, op: Op[T]) -> T:
        data = None
        try:
            while True:
                data = self._send(op.send(data))
        except StopIteration as done:
            return done.value
        finally:
            op.close()

    # -- public API ----------------------------------------------------------------------------

    def fetch_jwks(self) -> dict[str, Any]:
        data = self._send(_Request("GET", JWKS_PATH, None))
        if not isinstance(data, dict):
            raise TesseraUnavailable("Tessera's JWKS is not an object")
        return data

    def verify_token(self, token: str) -> Principal:
        """The principal of a valid access token; `TesseraUnauthenticated` otherwise.

        No request to Tessera except the JWKS fetches described in `tessera_client.tokens`.
        """
        return self.verifier.verify(token, self.fetch_jwks)

    def check(
        self,
        action: str,
        resource: ResourceLike = None,
        *,
        principal: Principal | None = None,
        token: str | None = None,
        context: Mapping[str, Any] | None = None,
        subject_id: str | None = None,
    ) -> Decision:
        """May the caller (or `subject_id`) do `action` ("resource:action") on `resource`?"""
        return self._run(
            self._op_check(
                action,
                resource,
                principal=principal,
                token=token,
                context=context,
                subject_id=subject_id,
            )
        )

    def check_batch(
        self,
        checks: Sequence[Check | Mapping[str, Any]],
        *,
        principal: Principal | None = None,
        token: str | None = None,
    ) -> list[Decision]:
        """Many checks at once; answers in order (batches over 1000 are split)."""
        return self._run(self._op_check_batch(checks, principal=principal, token=token))

    def explain(
        self,
        action: str,
        resource: ResourceLike = None,
        *,
        principal: Principal | None = None,
        token: str | None = None,
        context: Mapping[str, Any] | None = None,
        subject_id: str | None = None,
    ) -> Explanation:
        """A decision with its reasons (never cached)."""
        return self._run(
            self._op_explain(
                action,
                resource,
                principal=principal,
                token=token,
                context=context,
                subject_id=subject_id,
            )
        )

    def fields(
        self,
        resource_type: str,
        *,
        principal: Principal | None = None,
        token: str | None = None,
        subject_id: str | None = None,
    ) -> FieldAccess:
        """The fields of `resource_type` the caller (or `subject_id`) may read and write."""
        return self._run(
            self._op_fields(resource_type, principal=principal, token=token, subject_id=subject_id)
        )

    def me(self, *, principal: Principal | None = None, token: str | None = None) -> Me:
        """The caller as Tessera sees it now: user, tenant, membership, roles, permissions."""
        return self._run(self._op_me(principal=principal, token=token))

    def accept_invitation(self, token: str, password: str | None = None) -> dict[str, Any]:
        """Accept an invitation (the token of its mailed link): the login answer for that tenant,
        or `{mfa_required, mfa_token}`. `password`: a new one when the account was never
        verified, else the person's current one."""
        return self._run(self._op_accept_invitation(token, password))

    def request_email_verification(self, email: str) -> None:
        """Mail a verification link to `email` (Tessera answers the same for any address)."""
        return self._run(self._op_request_email_verification(email))

    def confirm_email(self, token: str, password: str | None = None) -> None:
        """Prove the address with the mailed token (`password` when a tenant manages the
        account: it replaces the password)."""
        return self._run(self._op_confirm_email(token, password))

    def update_me(
        self,
        *,
        principal: Principal | None = None,
        token: str | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        """Change the person's own profile (first_name, last_name, phone, timezone, language,
        avatar_url) with their credential; the profile as Tessera now holds it."""
        return self._run(self._op_update_me(changes, principal=principal, token=token))


class AsyncTesseraClient(_Base):
    """The asyncio client. Use one per event loop (it pools connections)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._http = httpx.AsyncClient(**self._client_kwargs())

    async def __aenter__(self) -> AsyncTesseraClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, request: _Request) -> Any:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    request.method,
                    request.path,
                    json=request.json,
                    params=request.params,
                    headers=self._request_headers(request.credential),
                )
            except request.retryable as exc:
                if attempt >= self.retries:
                    raise TesseraUnavailable(f"cannot reach Tessera: {exc!r}") from exc
                await asyncio.sleep(self._delay(attempt))
                attempt += 1
                continue
            except httpx.HTTPError as exc:
                raise TesseraUnavailable(f"Tessera did not answer: {exc!r}") from exc
            return self._answer(response)

    async def _run(self, op: Op[T]) -> T:
        data = None
        try:
            while True:
                data = await self._send(op.send(data))
        except StopIteration as done:
            return done.value
        finally:
            op.close()

    # -- public API (as TesseraClient's, awaited) ------------------------------------------------

    async def fetch_jwks(self) -> dict[str, Any]:
        data = await self._send(_Request("GET", JWKS_PATH, None))
        if not isinstance(data, dict):
            raise TesseraUnavailable("Tessera's JWKS is not an object")
        return data

    async def verify_token(self, token: str) -> Principal:
        return await self.verifier.averify(token, self.fetch_jwks)

    async def check(
        self,
        action: str,
        resource: ResourceLike = None,
        *,
        principal: Principal | None = None,
        token: str | None = None,
        context: Mapping[str, Any] | None = None,
        subject_id: str | None = None,
    ) -> Decision:
        return await self._run(
            self._op_check(
                action,
                resource,
                principal=principal,
                token=token,
                context=context,
                subject_id=subject_id,
            )
        )

    async def check_batch(
        self,
        checks: Sequence[Check | Mapping[str, Any]],
        *,
        principal: Principal | None = None,
        token: str | None = None,
    ) -> list[Decision]:
        return await self._run(self._op_check_batch(checks, principal=principal, token=token))

    async def explain(
        self,
        action: str,
        resource: ResourceLike = None,
        *,
        principal: Principal | None = None,
        token: str | None = None,
        context: Mapping[str, Any] | None = None,
        subject_id: str | None = None,
    ) -> Explanation:
        return await self._run(
            self._op_explain(
                action,
                resource,
                principal=principal,
                token=token,
                context=context,
                subject_id=subject_id,
            )
        )

    async def fields(
        self,
        resource_type: str,
        *,
        principal: Principal | None = None,
        token: str | None = None,
        subject_id: str | None = None,
    ) -> FieldAccess:
        return await self._run(
            self._op_fields(resource_type, principal=principal, token=token, subject_id=subject_id)
        )

    async def me(self, *, principal: Principal | None = None, token: str | None = None) -> Me:
        return await self._run(self._op_me(principal=principal, token=token))

    async def accept_invitation(self, token: str, password: str | None = None) -> dict[str, Any]:
        return await self._run(self._op_accept_invitation(token, password))

    async def request_email_verification(self, email: str) -> None:
        return await self._run(self._op_request_email_verification(email))

    async def confirm_email(self, token: str, password: str | None = None) -> None:
        return await self._run(self._op_confirm_email(token, password))

    async def update_me(
        self,
        *,
        principal: Principal | None = None,
        token: str | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        return await self._run(self._op_update_me(changes, principal=principal, token=token))


__all__ = [
    "AsyncTesseraClient",
    "TesseraClient",
    "TesseraError",
    "bearer_token",
]
