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


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def browser_origin(value: str) -> str:
    """A browser application's origin as a tenant lists it: `https://host[:port]` (plain `http`
    only for a loopback host), nothing after it; lower-cased. ValueError says what is wrong."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin (https://host[:port])")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"{value!r}: an origin has no path, query, fragment or user")
    if "*" in parts.netloc:
        raise ValueError(f"{value!r}: wildcards are not allowed, list each origin")
    try:
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError:
        raise ValueError(f"{value!r}: the port is not a number from 0 to 65535") from None
    origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    if parts.scheme.lower() == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"{value!r}: use https (plain http only for localhost)")
    return origin
