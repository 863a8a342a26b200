"""Where the email step of /signin/ sends a person: the seam for single sign-on discovery.

A discoverer is `(email, request, next_url) -> str | None`: the URL to send the browser to (an
identity provider's authorization request) when it routes that email (by its domain, say), else
None. The SSO app registers its discoverer when it starts (`discoverer_register` in its
AppConfig.ready()). When none routes the email, the password step follows. A discoverer decides by
what the tenant configured (a verified domain), never by whether an account exists, so the answer
tells nothing about who has one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

Discoverer = Callable[[str, HttpRequest, str], str | None]

_DISCOVERERS: list[Discoverer] = []


def discoverer_register(discoverer: Discoverer) -> None:
    """Add a discoverer (idempotent)."""
    if discoverer not in _DISCOVERERS:
        _DISCOVERERS.append(discoverer)


def discoverer_unregister(discoverer: Discoverer) -> None:
    if discoverer in _DISCOVERERS:
        _DISCOVERERS.remove(discoverer)


def sign_in_route(email: str, *, request: HttpRequest, next_url: str) -> str | None:
    """The first discoverer's redirect for this email, or None: the password step."""
    for discoverer in _DISCOVERERS:
        target = discoverer(email, request, next_url)
        if target:
            return target
    return None
