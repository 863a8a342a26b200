"""The security headers every answer carries, as plain constants (no Django import).

`API_SECURITY_HEADERS` is the set for the API and everything that is not a page: JSON, problem
answers (404, 429, the 500 fallback), probes, JWKS, SCIM. A JSON answer renders nothing, so its
Content-Security-Policy allows nothing (`default-src 'none'`) and no framing. The Django
middleware (`tessera.api.security_middleware`) applies it; an ASGI handler in front of Django
sends `API_SECURITY_HEADERS_ASGI` (the same pairs as lower-case bytes) with its answers.

Pages that render in a browser get their own Content-Security-Policy and keep the other headers:
- the pages for people (`settings.WEB_PAGE_PREFIXES`): `tessera.web.headers.page_csp`;
- the admin site (`/admin/`): `ADMIN_CSP`, own origin only, no inline script or style;
- the API's Swagger UI (`/api/docs`) and ReDoc (`/api/redoc`): `API_DOCS_CSP` (the ReDoc page
  has an inline script and style, and ReDoc runs a worker from a `blob:` URL).
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "Content-Security-Policy"

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

ADMIN_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

API_DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

API_SECURITY_HEADERS: list[tuple[str, str]] = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    (CONTENT_SECURITY_POLICY, API_CSP),
]

API_SECURITY_HEADERS_ASGI: list[tuple[bytes, bytes]] = [
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in API_SECURITY_HEADERS
]

ADMIN_PREFIX = "/admin/"
API_DOCS_PATHS = ("/api/docs", "/api/redoc")


def csp_for_path(path: str) -> str:
    """The Content-Security-Policy of an answer at `path` (the pages for people excepted: their
    middleware sets theirs first)."""
    if path.startswith(ADMIN_PREFIX):
        return ADMIN_CSP
    if path in API_DOCS_PATHS:
        return API_DOCS_CSP
    return API_CSP


def security_headers_for_path(path: str) -> list[tuple[str, str]]:
    """`API_SECURITY_HEADERS` with the Content-Security-Policy of `path`."""
    csp = csp_for_path(path)
    return [
        (name, csp if name == CONTENT_SECURITY_POLICY else value)
        for name, value in API_SECURITY_HEADERS
    ]
