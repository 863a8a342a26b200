"""The browser origins the deployment trusts: `TESSERA_PUBLIC_URL`'s, `TESSERA_CORS_ORIGINS` and
`TESSERA_CSRF_TRUSTED_ORIGINS`.

Both doors that a browser opens with the session cookie ask it: a cookie login on the API
(`tessera.api.transport`) and a cookie WebSocket (`tessera.realtime.consumers`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, lower-cased; None when it has no scheme or host."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_origins() -> frozenset[str]:
    """The configured origins, normalised by `origin_of`."""
    configured = [settings.PUBLIC_URL, *settings.CORS_ORIGINS, *settings.CSRF_TRUSTED_ORIGINS]
    return frozenset(o for o in (origin_of(u) for u in configured) if o)
