"""Keep a valid access token: refresh with the rotating refresh token before it expires.

    holder = TokenHolder.login("https://iam.example.com", "svc@acme.example", password,
                               tenant="acme")
    httpx.get(url, headers=holder.auth_headers())      # refreshed when due, never twice at once

    holder = AsyncTokenHolder(base_url, login_answer)   # the same, awaited

Tessera rotates refresh tokens: each one works once, and presenting a spent one again revokes the
session — except a *benign retry*: the same client (address and user agent) presenting it again
within a few seconds while its replacement is still unused gets 401 without the session being
revoked. The holders follow that rule:

- One refresh at a time per holder (a lock); callers waiting for it take its result.
- Holders sharing a `store` (e.g. several workers of one service) see each other's tokens. When a
  refresh answers 401 and the store holds, or within `winner_wait` comes to hold, tokens that a
  concurrent refresh obtained (a refresh token other than the one just spent), those winner's
  tokens are used. Otherwise the 401 stands: `TesseraUnauthenticated` (log in again). One refresh
  request per attempt, never a loop.
- When Tessera cannot be reached, the current access token is kept while it is still valid and the
  refresh is tried again at the next use after `retry_interval`; once it has expired the holder
  raises `TesseraUnavailable`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from . import __version__
from .errors import TesseraError, TesseraUnauthenticated, TesseraUnavailable, error_from_response

log = logging.getLogger("tessera_client")

LOGIN_PATH = "/api/v1/auth/login"
REFRESH_PATH = "/api/v1/auth/refresh"


@dataclass(frozen=True, slots=True)
class Tokens:
    """An access token, the refresh token that replaces it, and when the access token expires."""

    access_token: str
    refresh_token: str
    expires_at: float  # seconds since the epoch
    lifetime: float  # seconds the access token was issued for

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any], now: float | None = None) -> Tokens:
        """From a login or refresh answer (`access_token`, `refresh_token`, `expires_in`)."""
        try:
            access, refresh = str(answer["access_token"]), str(answer["refresh_token"])
            lifetime = float(answer["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise TesseraUnavailable("Tessera's token answer lacks the tokens") from None
        now = time.time() if now is None else now
        return cls(access, refresh, now + lifetime, lifetime)


class TokenStore(Protocol):
    """Where holders keep their tokens; share one between holders (processes) of one session.
    `load`/`save` may be coroutine functions for the async holder."""

    def load(self) -> Tokens | None: ...

    def save(self, tokens: Tokens) -> None: ...


class MemoryTokenStore:
    """The default store: this holder's memory (share the object between holders of a process)."""

    def __init__(self, tokens: Tokens | None = None) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()

    def load(self) -> Tokens | None:
        return self._tokens

    def save(self, tokens: Tokens) -> None:
        with self._lock:
            self._tokens = tokens


def _login_tokens(answer: Mapping[str, Any]) -> Tokens:
    if answer.get("mfa_required"):
        raise TesseraError(
            "this account needs MFA: a token holder cannot log in with it", status=401
        )
    if answer.get("password_change_required"):
        raise TesseraError(
            "the password must be changed before the account may act "
            "(create service users with must_change_password: false)",
            status=403,
        )
    return Tokens.from_answer(answer)


class _Holder:
    def __init__(
        self,
        base_url: str,
        tokens: Tokens | Mapping[str, Any] | None = None,
        *,
        store: TokenStore | None = None,
        refresh_before: float = 60.0,
        retry_interval: float = 5.0,
        winner_wait: float = 1.0,
        timeout: float = 10.0,
        transport: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """
        base_url: where Tessera is. tokens: a login or refresh answer, or `Tokens` (None: the
        store already holds them). store: shared storage (default: in memory).
        refresh_before: refresh this many seconds before the access token expires (at most half
        its lifetime). retry_interval: seconds between refresh attempts while Tessera is down.
        winner_wait: after a 401, how long to watch the store for a concurrent refresh's tokens
        (the winner may not have saved them yet) before giving up; no request is repeated.
        """
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.store: TokenStore = store if store is not None else MemoryTokenStore()
        self.refresh_before = refresh_before
        self.retry_interval = retry_interval
        self.winner_wait = winner_wait
        self._clock = clock
        self._initial = None if tokens is None else self._as_tokens(tokens)
        self._next_attempt = 0.0
        self.refresh_count = 0  # refresh requests sent
        self._http_kwargs: dict[str, Any] = {
            "base_url": self.base_url,
            "timeout": timeout,
            "headers": {
                "Accept": "application/json",
                "User-Agent": f"tessera-client/{__version__}",
            },
            "follow_redirects": False,
        }
        if transport is not None:
            self._http_kwargs["transport"] = transport

    def _as_tokens(self, tokens: Tokens | Mapping[str, Any]) -> Tokens:
        return tokens if isinstance(tokens, Tokens) else Tokens.from_answer(tokens, self._clock())

    def _due(self, tokens: Tokens) -> bool:
        margin = min(self.refresh_before, tokens.lifetime / 2)
        now = self._clock()
        if tokens.expires_at <= now:
            return True
        return tokens.expires_at - now <= margin and now >= self._next_attempt

    def _usable(self, tokens: Tokens) -> bool:
        return tokens.expires_at > self._clock()

    def _outcome(self, response: httpx.Response | None, error: Exception | None) -> tuple[str, Any]:
        """What a refresh (or login) answer means: ("new", Tokens) on success,
        ("unauthenticated", exc) on 401, ("keep", exc) when Tessera could not answer properly
        (the current token may still be used), ("error", exc) for any other refusal."""
        if error is not None:
            return "keep", TesseraUnavailable(f"cannot reach Tessera to refresh: {error!r}")
        assert response is not None
        if response.status_code == 200:
            try:
                return "new", Tokens.from_answer(response.json(), self._clock())
            except ValueError:
                return "keep", TesseraUnavailable("Tessera's token answer is not JSON")
            except TesseraUnavailable as exc:
                return "keep", exc
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        exc = error_from_response(
            response.status_code,
            problem if isinstance(problem, dict) else {},
            response.headers.get("Retry-After"),
        )
        if response.status_code == 401:
            return "unauthenticated", exc
        if isinstance(exc, TesseraUnavailable):
            return "keep", exc
        return "error", exc

    def _settle(self, spent: Tokens, kind: str, value: Any, latest: Tokens | None) -> Tokens:
        if kind == "new":
            return value
        if kind == "unauthenticated":
            if latest is not None and latest.refresh_token != spent.refresh_token:
                return latest  # a concurrent refresh won: its tokens are the session's now
            raise TesseraUnauthenticated(
                "the refresh token was refused (spent, expired or revoked): log in again",
                problem=value.problem,
            )
        if kind == "keep":
            self._next_attempt = self._clock() + self.retry_interval
            if self._usable(spent):
                log.warning("tessera_client: refresh failed, keeping the current token: %s", value)
                return spent
        raise value


class TokenHolder(_Holder):
    """A valid access token on demand, refreshed before it expires (thread-safe)."""

    def __init__(self, base_url: str, tokens: Tokens | Mapping[str, Any] | None = None, **kw: Any):
        super().__init__(base_url, tokens, **kw)
        self._http = httpx.Client(**self._http_kwargs)
        self._lock = threading.Lock()
        if self._initial is not None:
            self.store.save(self._initial)

    @classmethod
    def login(
        cls, base_url: str, email: str, password: str, *, tenant: str, **kwargs: Any
    ) -> TokenHolder:
        """Log in (`POST /auth/login` with `tenant`, the slug) and hold the session's tokens."""
        holder = cls(base_url, **kwargs)
        try:
            response = holder._http.post(
                LOGIN_PATH, json={"email": email, "password": password, "tenant": tenant}
            )
        except httpx.HTTPError as exc:
            holder.close()
            raise TesseraUnavailable(f"cannot reach Tessera to log in: {exc!r}") from exc
        if response.status_code != 200:
            holder.close()
            kind, exc = holder._outcome(response, None)
            raise exc
        holder.store.save(_login_tokens(response.json()))
        return holder

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TokenHolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tokens(self) -> Tokens:
        tokens = self.store.load()
        if tokens is None:
            raise TesseraUnauthenticated("no tokens held: log in first")
        return tokens

    def access_token(self) -> str:
        """A valid access token, refreshing first when it is due."""
        tokens = self.tokens
        if not self._due(tokens):
            return tokens.access_token
        with self._lock:
            tokens = self.tokens  # a caller that held the lock may have refreshed already
            if not self._due(tokens):
                return tokens.access_token
            return self._refresh(tokens).access_token

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def refresh(self) -> Tokens:
        """Refresh now (whether due or not)."""
        with self._lock:
            return self._refresh(self.tokens)

    def _winner(self, spent: Tokens) -> Tokens | None:
        """The store's tokens once they differ from `spent`, watched for `winner_wait`."""
        deadline = time.monotonic() + self.winner_wait
        while True:
            latest = self.store.load()
            if latest is not None and latest.refresh_token != spent.refresh_token:
                return latest
            if time.monotonic() >= deadline:
                return latest
            time.sleep(0.02)

    def _refresh(self, spent: Tokens) -> Tokens:
        self.refresh_count += 1
        response, error = None, None
        try:
            response = self._http.post(REFRESH_PATH, json={"refresh_token": spent.refresh_token})
        except httpx.HTTPError as exc:
            error = exc
        kind, value = self._outcome(response, error)
        latest = self._winner(spent) if kind == "unauthenticated" else None
        tokens = self._settle(spent, kind, value, latest)
        if kind == "new":
            self.store.save(tokens)
        return tokens


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class AsyncTokenHolder(_Holder):
    """`TokenHolder` for asyncio: one refresh at a time per holder and event loop."""

    def __init__(self, base_url: str, tokens: Tokens | Mapping[str, Any] | None = None, **kw: Any):
        super().__init__(base_url, tokens, **kw)
        self._http = httpx.AsyncClient(**self._http_kwargs)
        self._lock = asyncio.Lock()
        self._saved_initial = self._initial is None

    @classmethod
    async def login(
        cls, base_url: str, email: str, password: str, *, tenant: str, **kwargs: Any
    ) -> AsyncTokenHolder:
        """Log in (`POST /auth/login` with `tenant`, the slug) and hold the session's tokens."""
        holder = cls(base_url, **kwargs)
        try:
            response = await holder._http.post(
                LOGIN_PATH, json={"email": email, "password": password, "tenant": tenant}
            )
        except httpx.HTTPError as exc:
            await holder.aclose()
            raise TesseraUnavailable(f"cannot reach Tessera to log in: {exc!r}") from exc
        if response.status_code != 200:
            await holder.aclose()
            kind, exc = holder._outcome(response, None)
            raise exc
        await _maybe_await(holder.store.save(_login_tokens(response.json())))
        return holder

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncTokenHolder:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def tokens(self) -> Tokens:
        if not self._saved_initial:
            assert self._initial is not None
            await _maybe_await(self.store.save(self._initial))
            self._saved_initial = True
        tokens = await _maybe_await(self.store.load())
        if tokens is None:
            raise TesseraUnauthenticated("no tokens held: log in first")
        return tokens

    async def access_token(self) -> str:
        tokens = await self.tokens()
        if not self._due(tokens):
            return tokens.access_token
        async with self._lock:
            tokens = await self.tokens()
            if not self._due(tokens):
                return tokens.access_token
            return (await self._refresh(tokens)).access_token

    async def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.access_token()}"}

    async def refresh(self) -> Tokens:
        async with self._lock:
            return await self._refresh(await self.tokens())

    async def _winner(self, spent: Tokens) -> Tokens | None:
        deadline = time.monotonic() + self.winner_wait
        while True:
            latest = await _maybe_await(self.store.load())
            if latest is not None and latest.refresh_token != spent.refresh_token:
                return latest
            if time.monotonic() >= deadline:
                return latest
            await asyncio.sleep(0.02)

    async def _refresh(self, spent: Tokens) -> Tokens:
        self.refresh_count += 1
        response, error = None, None
        try:
            response = await self._http.post(
                REFRESH_PATH, json={"refresh_token": spent.refresh_token}
            )
        except httpx.HTTPError as exc:
            error = exc
        kind, value = self._outcome(response, error)
        latest = await self._winner(spent) if kind == "unauthenticated" else None
        tokens = self._settle(spent, kind, value, latest)
        if kind == "new":
            await _maybe_await(self.store.save(tokens))
        return tokens


__all__ = ["AsyncTokenHolder", "MemoryTokenStore", "TokenHolder", "TokenStore", "Tokens"]
