"""A fake Tessera behind httpx.MockTransport, keys made here, and a token factory."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from tessera_client import AsyncTesseraClient, KeySet, TesseraClient

BASE_URL = "http://tessera.test"
ISSUER = BASE_URL
AUDIENCE = "tessera"


@dataclass
class SigningKey:
    kid: str
    private: Any
    alg: str = "EdDSA"

    @classmethod
    def ed25519(cls, kid: str) -> SigningKey:
        return cls(kid, ed25519.Ed25519PrivateKey.generate(), "EdDSA")

    @classmethod
    def es256(cls, kid: str) -> SigningKey:
        return cls(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")

    def jwk(self) -> dict[str, Any]:
        algorithm = OKPAlgorithm if self.alg == "EdDSA" else ECAlgorithm
        data = algorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**data, "kid": self.kid, "use": "sig", "alg": self.alg}


class Clock:
    """A monotonic clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeTessera:
    """Just enough of Tessera's API: JWKS, decisions, fields, me; it records every request."""

    keys: list[SigningKey]
    # permissions[user_id] = {"document:read", ...}; roles[user_id] = ["admin", ...]
    permissions: dict[str, set[str]] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    revoked_sessions: set[str] = field(default_factory=set)
    down: bool = False
    fail_times: int = 0  # the next N requests fail with a connection error
    status_override: int | None = None
    override_body: Any = None
    override_headers: dict[str, str] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def paths(self, path: str | None = None) -> list[str]:
        seen = [r.url.path for r in self.requests]
        return seen if path is None else [p for p in seen if p == path]

    def api_calls(self) -> list[str]:
        return [p for p in self.paths() if p.startswith("/api/")]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys]}

    def _caller(self, request: httpx.Request) -> dict[str, Any] | None:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        if token.startswith("tsk_"):
            return {"sub": "service", "tid": "t1", "sid": None}
        try:
            kid = jwt.get_unverified_header(token)["kid"]
            key = next(k for k in self.keys if k.kid == kid)
            claims = jwt.decode(
                token,
                key.private.public_key(),
                algorithms=[key.alg],
                audience=AUDIENCE,
                issuer=ISSUER,
            )
        except Exception:
            return None
        if claims.get("sid") in self.revoked_sessions:
            return None
        return claims

    def _allowed(self, caller: dict[str, Any], check: dict[str, Any]) -> bool:
        subject = check.get("subject_id") or caller["sub"]
        held = self.permissions.get(subject, set())
        resource, _, _action = check["action"].partition(":")
        return check["action"] in held or f"{resource}:*" in held or "*:*" in held

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/.well-known/jwks.json":
            return httpx.Response(200, json=self.jwks())
        if self.status_override is not None:
            return httpx.Response(
                self.status_override,
                json=self.override_body,
                headers={"Content-Type": "application/problem+json", **self.override_headers},
            )
        caller = self._caller(request)
        if caller is None:
            return problem(401, "Unauthenticated")
        body = json.loads(request.content) if request.content else {}
        if path == "/api/v1/authz/check":
            return httpx.Response(200, json={"allowed": self._allowed(caller, body)})
        if path == "/api/v1/authz/check/batch":
            results = [{"allowed": self._allowed(caller, c)} for c in body["checks"]]
            return httpx.Response(200, json={"results": results})
        if path == "/api/v1/authz/explain":
            allowed = self._allowed(caller, body)
            return httpx.Response(
                200,
                json={
                    "allowed": allowed,
                    "reason": "allowed by role editor" if allowed else "no rule matched",
                    "matched": [{"rule": 1}] if allowed else [],
                    "evaluated": [{"rule": 1, "result": allowed}],
                    "policy_version": 7,
                },
            )
        if path == "/api/v1/authz/fields":
            return httpx.Response(200, json={"readable": ["title", "body"], "writable": ["title"]})
        if path == "/api/v1/auth/me":
            tid = caller.get("tid")
            return httpx.Response(
                200,
                json={
                    "user": {"id": caller["sub"], "email": f"{caller['sub']}@example.test"},
                    "tenant": None if tid is None else {"id": tid, "slug": "acme", "name": "Acme"},
                    "membership": None if tid is None else {"id": "m-" + caller["sub"]},
                    "roles": self.roles.get(caller["sub"], []),
                    "permissions": sorted(self.permissions.get(caller["sub"], set())),
                },
            )
        return problem(404, "Not found")


def problem(status: int, title: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": title, "status": status, "detail": title},
        headers={"Content-Type": "application/problem+json"},
    )


TokenFactory = Callable[..., str]


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey.ed25519("key-1")


@pytest.fixture
def fake(signing_key: SigningKey) -> FakeTessera:
    return FakeTessera(keys=[signing_key])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_token(signing_key: SigningKey) -> TokenFactory:
    def make(
        sub: str = "u1",
        tid: str | None = "t1",
        sid: str = "s1",
        *,
        key: SigningKey | None = None,
        kid: str | None = None,
        expires_in: int = 300,
        iss: str = ISSUER,
        aud: str = AUDIENCE,
        typ: str | None = "at+jwt",
        drop: tuple[str, ...] = (),
        **extra: Any,
    ) -> str:
        key = key or signing_key
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "tid": tid,
            "sid": sid,
            "jti": f"jti-{sub}-{now}",
            "iat": now,
            "exp": now + expires_in,
            "iss": iss,
            "aud": aud,
            **extra,
        }
        for name in drop:
            claims.pop(name, None)
        # PyJWT drops an empty typ from the header; by default it would write "JWT".
        headers: dict[str, Any] = {"kid": kid or key.kid, "typ": typ or ""}
        return jwt.encode(claims, key.private, algorithm=key.alg, headers=headers)

    return make


@pytest.fixture
def client(fake: FakeTessera, clock: Clock):
    c = TesseraClient(
        BASE_URL,
        keys=KeySet(clock=clock),
        any_tenant=True,
        transport=httpx.MockTransport(fake.handler),
        backoff=0.001,
    )
    yield c
    c.close()


@pytest.fixture
async def aclient(fake: FakeTessera, clock: Clock):
    c = AsyncTesseraClient(
        BASE_URL,
        keys=KeySet(clock=clock),
        any_tenant=True,
        transport=httpx.MockTransport(fake.handler),
        backoff=0.001,
    )
    yield c
    await c.aclose()


# The SDK's own fixtures (tessera_fake; tessera_server: a real Tessera), used as an app would.
from tessera_client.testing.fixtures import tessera_fake, tessera_server  # noqa: E402, F401
