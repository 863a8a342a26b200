"""`return_to`: where a sign-in may send the browser back — only to an origin the provider
registered (exact scheme, host and port), never elsewhere (open redirects, token theft)."""

from __future__ import annotations

from urllib.parse import urlsplit

from tessera.sso.errors import ReturnToNotAllowed
from tessera.sso.models import IdentityProvider


def return_to_check(provider: IdentityProvider, return_to: str | None) -> str:
    """`return_to` when its origin is one the provider registered; 400 otherwise."""
    if not return_to:
        return ""
    if not isinstance(return_to, str) or len(return_to) > 2000:
        raise ReturnToNotAllowed("return_to is too long")
    try:
        parts = urlsplit(return_to)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise ReturnToNotAllowed("return_to is not a URL") from None
    origin = f"{parts.scheme}://{(parts.netloc or '').lower()}"
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.username is not None
        or origin not in provider.return_origins
    ):
        raise ReturnToNotAllowed(
            "return_to must be at one of the origins registered for this identity provider"
        )
    return return_to
