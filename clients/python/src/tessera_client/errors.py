"""The errors the SDK raises: one small hierarchy, each carrying the HTTP status it stands for.

    TesseraError
    ├── TesseraUnauthenticated   401: no, bad, expired or revoked credentials
    ├── TesseraForbidden         403: authenticated, not allowed
    ├── TesseraNotFound          404: no such object (or another tenant's)
    └── TesseraUnavailable       503: Tessera could not be reached or answered badly
        └── TesseraRateLimited   429 from Tessera, with `retry_after`

Any other problem Tessera answers (400, 409, 422, ...) is a plain `TesseraError` with its status.
A helper that meets an error never allows: it answers the error's status (fail closed).
"""

from __future__ import annotations

from typing import Any


class TesseraError(Exception):
    """Base class: `status` is the HTTP status it maps to, `problem` the problem+json body."""

    status: int = 500
    title: str = "Tessera error"

    def __init__(
        self,
        detail: str = "",
        *,
        status: int | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if status is not None:
            self.status = status
        self.problem: dict[str, Any] = dict(problem or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, detail={self.detail!r})"


class TesseraUnauthenticated(TesseraError):
    status = 401
    title = "Unauthenticated"


class TesseraForbidden(TesseraError):
    status = 403
    title = "Forbidden"


class TesseraNotFound(TesseraError):
    status = 404
    title = "Not found"


class TesseraUnavailable(TesseraError):
    status = 503
    title = "Authorization service unavailable"


class TesseraRateLimited(TesseraUnavailable):
    """Tessera answered 429. The helpers answer 503 with the same `Retry-After`."""

    status = 429

    def __init__(
        self,
        detail: str = "",
        *,
        retry_after: float | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or "Tessera rate limit reached", problem=problem)
        self.retry_after = retry_after


def error_from_response(status: int, problem: dict[str, Any], retry_after: str | None = None):
    """The exception for a non-2xx answer from Tessera."""
    detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
    if status == 401:
        return TesseraUnauthenticated(detail, problem=problem)
    if status == 403:
        return TesseraForbidden(detail, problem=problem)
    if status == 404:
        return TesseraNotFound(detail, problem=problem)
    if status == 429:
        seconds: float | None
        try:
            seconds = float(retry_after) if retry_after is not None else None
        except ValueError:
            seconds = None
        return TesseraRateLimited(detail, retry_after=seconds, problem=problem)
    if status >= 500:
        return TesseraUnavailable(f"Tessera answered {status}: {detail}", problem=problem)
    return TesseraError(detail, status=status, problem=problem)
