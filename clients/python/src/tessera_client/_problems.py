"""How the framework helpers answer when access is not granted (RFC 9457 problem+json).

Fail closed: every error becomes a refusal. 401 for credentials (missing, bad, expired, revoked),
403 for "not allowed", 503 when Tessera cannot be asked, 500 for a request Tessera rejected as
malformed (a bug in the application). Never an allow.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    TesseraError,
    TesseraForbidden,
    TesseraNotFound,
    TesseraRateLimited,
    TesseraUnauthenticated,
    TesseraUnavailable,
)

log = logging.getLogger("tessera_client")

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://tessera.dev/problems/"


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    title: str
    detail: str
    code: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        return body


CHALLENGE = 'Bearer realm="tessera"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="tessera", error="invalid_token"'  # noqa: S105 - not a secret


def unauthenticated(
    detail: str = "A valid Bearer access token is required.", *, token_sent: bool = False
) -> Problem:
    """A 401. RFC 6750 section 3: `error="invalid_token"` only when a token was sent (bad,
    expired, foreign or revoked); a request without one gets the bare challenge."""
    challenge = INVALID_TOKEN_CHALLENGE if token_sent else CHALLENGE
    return Problem(
        401, "Unauthenticated", detail, "unauthenticated", {"WWW-Authenticate": challenge}
    )


def forbidden(detail: str = "You are not allowed to do this.") -> Problem:
    return Problem(403, "Forbidden", detail, "forbidden")


def problem_for(exc: TesseraError) -> Problem:
    """The refusal for an error met while authenticating or deciding."""
    if isinstance(exc, TesseraUnauthenticated):
        return unauthenticated(exc.detail, token_sent=True)
    if isinstance(exc, TesseraForbidden | TesseraNotFound):
        return forbidden(exc.detail if isinstance(exc, TesseraForbidden) else forbidden().detail)
    if isinstance(exc, TesseraUnavailable):
        log.warning("tessera_client: authorization service unavailable: %s", exc.detail)
        headers = {}
        if isinstance(exc, TesseraRateLimited) and exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return Problem(
            503,
            "Service unavailable",
            "The authorization service is unavailable; try again later.",
            "authorization_unavailable",
            headers,
        )
    log.error("tessera_client: Tessera refused the authorization request: %r", exc)
    return Problem(
        500,
        "Authorization error",
        "The authorization request could not be made.",
        "authorization_error",
    )
