"""A small OpenID provider of our own, for the cases oidc-provider-mock cannot play: an Entra-style
`{tid}` issuer, a rotated signing key, a `groups` overage, PKCE enforcement, and forged tokens
(another issuer or audience, expired, a wrong nonce or at_hash, an unknown key).

Built on Authlib's and joserfc's pieces (S256 challenge, half hashes, JWS), served by werkzeug
on a loopback port in a thread. `provider.next_token` tweaks the next ID token.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@functools.cache
def first_key() -> RSAKey:
    """The provider's first key, made once per run (key generation is the slow part)."""
    return new_key("key-1")


@dataclass
class Grant:
    sub: str
    nonce: str | None
    challenge: str | None
    redirect_uri: str


@dataclass
class OwnProvider:
    issuer_template: str = ""  # "" → the server's URL; may hold "{tid}"
    tid: str = "11111111-2222-3333-4444-555555555555"
    keys: list[RSAKey] = field(default_factory=lambda: [first_key()])
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    next_token: dict[str, Any] = field(default_factory=dict)
    sign_with: RSAKey | None = None
    enforce_pkce: bool = True
    token_status: int = 200
    base: str = ""
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        template = self.issuer_template or self.base
        return template.replace("{tid}", self.tid)

    def rotate(self) -> None:
        """A new signing key; the JWK Set publishes only the new one."""
        self.keys = [new_key(f"key-{len(self.keys) + 1}-{secrets.token_hex(3)}")]

    # --- the endpoints ---------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        handler = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
        }.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def _json(self, body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def discovery(self, request: Request) -> Response:
        return self._json(
            {
                "issuer": self.issuer_template or self.base,
                "authorization_endpoint": f"{self.base}/authorize",
                "token_endpoint": f"{self.base}/token",
                "jwks_uri": f"{self.base}/jwks",
            }
        )

    def jwks(self, request: Request) -> Response:
        return self._json(KeySet(self.keys).as_dict(private=False))

    def authorize(self, request: Request) -> Response:
        """Signs in `login_hint` (the test names the person) at once, as a consenting user."""
        args = request.args
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            sub=args["login_hint"],
            nonce=args.get("nonce"),
            challenge=args.get("code_challenge"),
            redirect_uri=args["redirect_uri"],
        )
        target = f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args['state']})}"
        return Response(status=302, headers={"Location": target})

    def token(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        self.token_requests.append(form)
        if self.token_status != 200:
            return self._json({"error": "server_error"}, status=self.token_status)
        grant = self.grants.pop(form.get("code", [""])[0], None)
        if grant is None:
            return self._json({"error": "invalid_grant"}, status=400)
        verifier = form.get("code_verifier", [""])[0]
        if self.enforce_pkce and (
            not grant.challenge or create_s256_code_challenge(verifier) != grant.challenge
        ):
            return self._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        access_token = secrets.token_urlsafe(24)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant.sub,
            "aud": "tessera-client",
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "at_hash": create_half_hash(access_token, "RS256").decode(),
            "tid": self.tid,
            **self.users.get(grant.sub, {}),
        }
        claims.update(self.next_token)
        self.next_token = {}
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.sign_with or self.keys[0]
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        self.sign_with = None
        return self._json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )


class Running:
    """The provider served on 127.0.0.1 in a thread (a context manager)."""

    def __init__(self, provider: OwnProvider) -> None:
        self.provider = provider
        self.server = make_server("127.0.0.1", 0, provider, threaded=True)
        provider.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> OwnProvider:
        self.thread.start()
        return self.provider

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(2)


def callback_path(location: str) -> str:
    """The path and query of a redirect to Tessera's callback (the test client's input)."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"
