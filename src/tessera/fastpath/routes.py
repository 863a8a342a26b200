"""Which requests the fast path answers, and the view Django's URL resolver reaches for each:
the decision endpoints, the caller's identity and token refresh, and the SCIM Users list, where
a directory sends its lookup before every create (`filter=userName eq "…"`)."""

from __future__ import annotations

from django.urls import ResolverMatch, resolve

HOT_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/api/v1/authz/check"),
        ("POST", "/api/v1/authz/check/batch"),
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/auth/refresh"),
        ("GET", "/scim/v2/Users"),
    }
)


def hot_views() -> dict[tuple[str, str], ResolverMatch]:
    """(method, path) → the resolver's match for that path, resolved once (the same view, the
    django-ninja operation, that Django calls: method dispatch, auth, parsing, error handlers)."""
    return {(method, path): resolve(path) for method, path in HOT_ROUTES}
