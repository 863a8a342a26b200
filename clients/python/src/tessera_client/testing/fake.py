"""`FakeTessera`: tokens signed by a local key pair, and decisions from the grants a test sets."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from ..client import AsyncTesseraClient, TesseraClient
from ..models import Principal

DEFAULT_BASE_URL = "http://tessera.test"
DEFAULT_TENANT_ID = "00000000-0000-4000-8000-000000000001"


def _problem(status: int, title: str, code: str) -> httpx.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": title, "code": code}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


def _matches(held: Iterable[str], action: str) -> bool:
    resource = action.partition(":")[0]
    return any(p in (action, f"{resource}:*", "*:*") for p in held)


class FakeTessera:
    """A stand-in for Tessera in an application's tests.

        fake = FakeTessera()
        client = fake.client()                          # a TesseraClient talking to the fake
        token = fake.mint("u-1", permissions=["document:read"], roles=["editor"])
        client.check("document:read", principal=client.verify_token(token))    # allowed

    A member is (tenant id, user id). `mint` signs an access token exactly as Tessera does (EdDSA,
    `typ: at+jwt`, `iss`, `aud`, `sub`, `tid`, `mid`, `sid`, `jti`, `iat`, `exp`, `roles`) and
    records the member's permissions and roles; `grant` / `revoke` change them later, `logout`
    ends a session (its tokens still verify locally, but every decision then answers 401, as with
    Tessera). Permissions are `resource:action` with `resource:*` and `*:*` wildcards; no scopes
    or conditions. `requests` lists every request the fake answered.
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        issuer: str | None = None,
        audience: str = "tessera",
        tenant_id: str = DEFAULT_TENANT_ID,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.issuer = issuer or self.base_url
        self.audience = audience
        self.tenant_id = tenant_id
        self.kid = "fake-" + uuid.uuid4().hex[:12]
        self._key = ed25519.Ed25519PrivateKey.generate()
        self._lock = threading.Lock()
        self.reset()

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget members, sessions and recorded requests (the key pair stays)."""
        with self._lock:
            self.permissions: dict[tuple[str, str], set[str]] = {}
            self.roles: dict[tuple[str, str], list[str]] = {}
            self.ended_sessions: set[str] = set()
            self.requests: list[httpx.Request] = []
            self.down = False  # True: every request fails to connect (Tessera unreachable)

    def grant(self, user_id: str, *permissions: str, tenant_id: str | None = None) -> None:
        with self._lock:
            self.permissions.setdefault((tenant_id or self.tenant_id, user_id), set()).update(
                permissions
            )

    def revoke(self, user_id: str, *permissions: str, tenant_id: str | None = None) -> None:
        with self._lock:
            held = self.permissions.get((tenant_id or self.tenant_id, user_id), set())
            held.difference_update(permissions)

    def set_roles(
        self, user_id: str, roles: Iterable[str], *, tenant_id: str | None = None
    ) -> None:
        """The member's roles as `me` reports them (tokens minted earlier keep their claim)."""
        with self._lock:
            self.roles[(tenant_id or self.tenant_id, user_id)] = list(roles)

    def logout(self, token_or_session_id: str) -> None:
        """End a session: decisions with its tokens answer 401 from now on."""
        sid = token_or_session_id
        if sid.count(".") == 2:
            sid = jwt.decode(sid, options={"verify_signature": False}).get("sid", "")
        with self._lock:
            self.ended_sessions.add(sid)

    def jwks(self) -> dict[str, Any]:
        jwk = OKPAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "EdDSA"}]}

    # -- tokens --------------------------------------------------------------------------------

    def mint(
        self,
        user_id: str = "user-1",
        *,
        tenant_id: str | None = None,
        permissions: Iterable[str] = (),
        roles: Iterable[str] | None = None,
        session_id: str | None = None,
        expires_in: int = 900,
        **claims: Any,
    ) -> str:
        """An access token for the member, who from now on holds `permissions` (added to any
        granted before) and `roles` (the token's `roles` claim and what `me` answers; None leaves
        the claim out). Extra keyword arguments become claims (e.g. `aud="other"` for a test of
        a foreign token)."""
        tid = tenant_id or self.tenant_id
        if permissions:
            self.grant(user_id, *permissions, tenant_id=tid)
        if roles is not None:
            self.set_roles(user_id, roles, tenant_id=tid)
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "tid": tid,
            "mid": f"m-{tid}-{user_id}",
            "sid": session_id or uuid.uuid4().hex,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + expires_in,
        }
        if roles is not None:
            body["roles"] = list(roles)
        body.update(claims)
        return jwt.encode(
            body, self._key, algorithm="EdDSA", headers={"typ": "at+jwt", "kid": self.kid}
        )

    def principal(self, user_id: str = "user-1", **kwargs: Any) -> Principal:
        """A verified `Principal` for a freshly minted token (arguments as `mint`)."""
        token = self.mint(user_id, **kwargs)
        claims = jwt.decode(token, options={"verify_signature": False})
        return Principal.from_claims(claims, token)

    # -- clients -------------------------------------------------------------------------------

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def _client_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("transport", self.transport)
        kwargs.setdefault("issuer", self.issuer)
        kwargs.setdefault("audience", self.audience)
        if "any_tenant" not in kwargs and "verifier" not in kwargs:
            kwargs.setdefault("tenant_ids", [self.tenant_id])
        return kwargs

    def client(self, **kwargs: Any) -> TesseraClient:
        """A `TesseraClient` talking to this fake (pinned to its tenant unless told otherwise)."""
        return TesseraClient(self.base_url, **self._client_kwargs(kwargs))

    def async_client(self, **kwargs: Any) -> AsyncTesseraClient:
        return AsyncTesseraClient(self.base_url, **self._client_kwargs(kwargs))

    # -- the API -------------------------------------------------------------------------------

    def _caller(self, request: httpx.Request) -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            claims = jwt.decode(
                token.strip(),
                self._key.public_key(),
                algorithms=["EdDSA"],
                audience=self.audience,
                issuer=self.issuer,
            )
        except jwt.PyJWTError:
            return None
        if claims.get("sid") in self.ended_sessions:
            return None
        return claims

    def _allowed(self, caller: Mapping[str, Any], check: Mapping[str, Any]) -> bool:
        subject = str(check.get("subject_id") or caller["sub"])
        held = self.permissions.get((str(caller.get("tid")), subject), set())
        return _matches(held, str(check.get("action", "")))

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            if self.down:
                raise httpx.ConnectError("connection refused (FakeTessera.down)", request=request)
        path = request.url.path
        if path == "/.well-known/jwks.json":
            return httpx.Response(200, json=self.jwks())
        caller = self._caller(request)
        if caller is None:
            return _problem(401, "Authentication required", "not_authenticated")
        try:
            body = json.loads(request.content) if request.content else {}
        except ValueError:
            return _problem(400, "Malformed JSON", "malformed_json")
        if path == "/api/v1/authz/check":
            return httpx.Response(200, json={"allowed": self._allowed(caller, body)})
        if path == "/api/v1/authz/check/batch":
            results = [{"allowed": self._allowed(caller, c)} for c in body.get("checks", [])]
            return httpx.Response(200, json={"results": results})
        if path == "/api/v1/authz/explain":
            allowed = self._allowed(caller, body)
            reason = "allowed by a permission granted in the test" if allowed else "no rule matched"
            return httpx.Response(
                200, json={"allowed": allowed, "reason": reason, "matched": [], "evaluated": []}
            )
        if path == "/api/v1/authz/fields":
            resource = request.url.params.get("resource_type", "")
            check = {
                "action": f"{resource}:read",
                "subject_id": request.url.params.get("subject_id"),
            }
            readable = ["*"] if self._allowed(caller, check) else []
            check["action"] = f"{resource}:update"
            writable = ["*"] if self._allowed(caller, check) else []
            return httpx.Response(200, json={"readable": readable, "writable": writable})
        if path == "/api/v1/auth/me":
            tid, sub = caller.get("tid"), str(caller["sub"])
            member = (str(tid), sub)
            return httpx.Response(
                200,
                json={
                    "user": {"id": sub, "email": f"{sub}@example.test"},
                    "tenant": None if tid is None else {"id": tid, "slug": "test", "name": "Test"},
                    "membership": None if tid is None else {"id": caller.get("mid")},
                    "roles": self.roles.get(member, []),
                    "permissions": sorted(self.permissions.get(member, set())),
                },
            )
        return _problem(404, "Not found", "not_found")
