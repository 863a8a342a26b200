"""Where a page may send a person next: a local path, or a registered origin.

Registered origins are those of the deployment: TESSERA_PUBLIC_URL's and TESSERA_CORS_ORIGINS
(the browser front ends it serves). Anything else — another host, a scheme-relative `//evil`,
`javascript:`, a backslash trick, control characters — falls back to the default page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

MAX_LENGTH = 2048


def _origin(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def registered_origins() -> frozenset[str]:
    """The origins a sign-in may return to (and pages' CSP `form-action` admits)."""
    configured = [settings.PUBLIC_URL, *settings.CORS_ORIGINS]
    return frozenset(o for o in (_origin(u) for u in configured) if o)


def is_local_path(target: str) -> bool:
    return (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(target, allowed_hosts=set())
    )


def safe_return_to(target: str | None, *, default: str) -> str:
    """`target` when it is a local path or a URL of a registered origin; else `default`."""
    if not target or len(target) > MAX_LENGTH or any(ord(c) < 32 for c in target):
        return default
    if is_local_path(target):
        return target
    origin = _origin(target)
    if origin is not None and origin in registered_origins():
        host = urlsplit(target).netloc
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={host}, require_https=target.lower().startswith("https:")
        ):
            return target
    return default
