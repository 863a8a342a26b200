"""ID token validation: signature from the provider's JWK Set (joserfc), then the claims
(Authlib's `CodeIDToken`: issuer, audience, expiry, issued-at, nonce, azp, at_hash), then the
kind's own rules (Entra `{tid}` issuers, Google `hd`). Nothing here is hand-written JOSE.
"""

from __future__ import annotations

import time
from typing import Any, cast

from authlib.oidc.core import CodeIDToken
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization

from tessera.sso.errors import SsoTokenInvalid
from tessera.sso.metadata import provider_jwks
from tessera.sso.models import IdentityProvider, ProviderKind
from tessera.sso.presets import issuer_matches

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
LEEWAY_SECONDS = 60
MAX_TOKEN_CHARS = 16_384


def _header(raw: str) -> dict[str, Any]:
    try:
        return dict(jws.extract_compact(raw.encode()).protected)
    except (JoseError, ValueError, UnicodeError):
        raise SsoTokenInvalid("The ID token is malformed") from None


def _decoded(provider: IdentityProvider, raw: str) -> tuple[dict, dict]:
    header = _header(raw)
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    keys = provider_jwks(provider, kid=kid)
    try:
        # the fetched JSON, checked by joserfc as it imports it (errors below)
        key_set = KeySet.import_key_set(cast(KeySetSerialization, keys))
    except (JoseError, ValueError, TypeError):
        raise SsoTokenInvalid("The provider's JWK Set cannot be read") from None
    if kid is not None and not any(k.kid == kid for k in key_set.keys):
        raise SsoTokenInvalid("The ID token is signed by a key the provider does not publish")
    try:
        token = jwt.decode(raw, key_set, algorithms=ALGORITHMS)
    except (JoseError, ValueError):
        raise SsoTokenInvalid("The ID token's signature is not valid") from None
    return dict(token.header), dict(token.claims)


def id_token_validate(
    *,
    provider: IdentityProvider,
    raw: object,  # what the token endpoint sent: checked here
    nonce: str,
    access_token: str | None,
    now: float | None = None,
) -> dict[str, Any]:
    """The validated claims of an ID token; 401 `sso_token_invalid` naming what failed."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TOKEN_CHARS:
        raise SsoTokenInvalid("The provider sent no usable ID token")
    header, claims = _decoded(provider, raw)
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer_matches(
        provider.issuer, issuer, claims.get("tid")
    ):
        raise SsoTokenInvalid("The ID token's issuer is not this provider")
    if "{tid}" in provider.issuer and provider.allowed_tenants:
        if claims.get("tid") not in provider.allowed_tenants:
            raise SsoTokenInvalid(
                "The ID token comes from a directory this provider does not allow"
            )
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": provider.client_id},
        "sub": {"essential": True},
    }
    params = {"nonce": nonce, "client_id": provider.client_id, "access_token": access_token}
    checked = CodeIDToken(claims, header, options=options, params=params)
    try:
        checked.validate(now=int(now if now is not None else time.time()), leeway=LEEWAY_SECONDS)
    except JoseError as exc:
        claim = getattr(exc, "claim", None) or exc.error
        raise SsoTokenInvalid(f"The ID token's {claim} is not valid") from None
    if not isinstance(claims.get("sub"), str) or not 0 < len(claims["sub"]) <= 255:
        raise SsoTokenInvalid("The ID token's sub is not valid")
    if provider.kind == ProviderKind.GOOGLE and provider.hosted_domain:
        if claims.get("hd") != provider.hosted_domain:
            raise SsoTokenInvalid("The Google account is not in the Workspace domain (hd)")
    return claims
