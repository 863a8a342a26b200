"""A provider's published documents: OpenID discovery and the JWK Set, fetched over HTTP (requests)
and cached on the provider's row.

Discovery is cached for an hour. The JWK Set is cached until a token names a key id (`kid`) it
does not hold: then it is fetched again (key rotation), at most once a minute per provider so a
stream of forged key ids cannot make Tessera hammer the provider. Any network failure, non-200
answer or unparsable document → `ProviderUnavailable` (502); nothing is written then.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone

from tessera.sso.errors import ProviderUnavailable
from tessera.sso.models import IdentityProvider
from tessera.sso.presets import discovery_for_issuer

DISCOVERY_TTL = timedelta(hours=1)
JWKS_REFETCH_AFTER = timedelta(minutes=1)
MAX_DOCUMENT_BYTES = 512 * 1024


def http_timeout() -> float:
    return settings.SSO_HTTP_TIMEOUT_SECONDS


def url_allowed(url: str) -> bool:
    """https, or http to a loopback host when the deployment allows it (not in production)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    return parts.scheme == "http" and loopback and settings.SSO_ALLOW_HTTP_LOOPBACK


def fetch_json(url: str, *, what: str) -> dict[str, Any]:
    """GET a JSON object from the provider; 502 `sso_provider_unavailable` on any failure."""
    if not url_allowed(url):
        raise ProviderUnavailable(f"The identity provider's {what} URL is not https")
    try:
        response = requests.get(
            url,
            headers={"Accept": "application/json"},
            timeout=http_timeout(),
            allow_redirects=False,
        )
    except requests.RequestException:
        raise ProviderUnavailable(f"The identity provider did not answer ({what})") from None
    if response.status_code != 200 or len(response.content) > MAX_DOCUMENT_BYTES:
        raise ProviderUnavailable(f"The identity provider answered {response.status_code} ({what})")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"The identity provider's {what} is not a JSON object")
    return body


def provider_metadata(provider: IdentityProvider) -> dict[str, Any]:
    """The endpoints to use: explicit ones win; else discovery (cached an hour)."""
    explicit = {
        "authorization_endpoint": provider.authorization_endpoint,
        "token_endpoint": provider.token_endpoint,
        "jwks_uri": provider.jwks_uri,
    }
    if all(explicit.values()):
        return explicit
    now = timezone.now()
    fresh = provider.metadata_fetched_at and now - provider.metadata_fetched_at < DISCOVERY_TTL
    if not (fresh and provider.metadata):
        url = provider.discovery_url or discovery_for_issuer(provider.issuer)
        document = fetch_json(url, what="discovery document")
        wanted = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not all(isinstance(document.get(k), str) and url_allowed(document[k]) for k in wanted):
            raise ProviderUnavailable("The identity provider's discovery document is incomplete")
        provider.metadata = {k: document[k] for k in (*wanted, "issuer") if k in document}
        provider.metadata_fetched_at = now
        IdentityProvider.objects.filter(pk=provider.pk).update(
            metadata=provider.metadata, metadata_fetched_at=now
        )
    return {k: v or provider.metadata.get(k, "") for k, v in explicit.items()}


def provider_jwks(provider: IdentityProvider, *, kid: str | None) -> dict[str, Any]:
    """The provider's JWK Set holding `kid` when it can: the cached set, or a fresh one when
    the cached set lacks `kid` (rotation) and was not fetched within the last minute."""
    now = timezone.now()
    keys = provider.jwks.get("keys") if isinstance(provider.jwks, dict) else None
    if not isinstance(keys, list):  # a malformed cached set counts as none
        keys = None
    have = (
        keys is not None and bool(keys) and (kid is None or any(k.get("kid") == kid for k in keys))
    )
    recent = provider.jwks_fetched_at and now - provider.jwks_fetched_at < JWKS_REFETCH_AFTER
    if have or (keys and recent):
        return provider.jwks
    url = provider_metadata(provider)["jwks_uri"]
    document = fetch_json(url, what="JWK Set")
    if not isinstance(document.get("keys"), list):
        raise ProviderUnavailable("The identity provider's JWK Set has no keys")
    provider.jwks, provider.jwks_fetched_at = document, now
    IdentityProvider.objects.filter(pk=provider.pk).update(jwks=document, jwks_fetched_at=now)
    return document
