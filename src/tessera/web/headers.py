"""Security headers of the pages for people (settings.WEB_PAGE_PREFIXES).

Content-Security-Policy   scripts, styles, fonts and images from our own origin only (no inline
                          script or style, no CDN), images also as `data:` (the QR code),
                          forms posting to our origin or a registered one (a sign-in's
                          return_to), `frame-ancestors 'none'`, no <base>, no plugins
Cache-Control: no-store   pages show backup codes, API keys, sessions: never kept by caches
X-Frame-Options: DENY, nosniff, Referrer-Policy, COOP come from Django's settings for every
response; CSRF from CsrfViewMiddleware (every form carries the token).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tessera.web.return_to import registered_origins


def page_csp() -> str:
    form_targets = " ".join(["'self'", *sorted(registered_origins())])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            f"form-action {form_targets}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def is_page_path(path: str) -> bool:
    return path.startswith(tuple(settings.WEB_PAGE_PREFIXES))


class PageSecurityHeadersMiddleware:
    """Adds the pages' headers (a view may set a stricter CSP of its own)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = page_csp()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_page_path(request.path_info):
            response.headers.setdefault("Content-Security-Policy", self.csp)
            response.headers["Cache-Control"] = "no-store"
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response
