"""One error hierarchy for the whole service.

    TesseraError (code, status)
    ├── InvalidInput            400  malformed request
    ├── NotAuthenticated        401  missing or invalid credentials
    ├── PermissionDenied        403  authenticated, not allowed
    ├── NotFound                404  absent, or another tenant's
    ├── Conflict                409  duplicate, or state forbids it
    ├── ValidationFailed        422  well-formed but invalid; carries per-field `errors`
    └── RateLimited             429  carries `retry_after` seconds

Apps subclass these with their own `code`; the API maps them to problem+json once
(`tessera.problems`).
"""

from __future__ import annotations

from typing import Any


class TesseraError(Exception):
    status = 500
    code = "internal_error"
    title = "Internal error"

    def __init__(
        self,
        detail: str = "",
        *,
        errors: list[dict[str, Any]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extensions: dict[str, Any] = {}  # extra problem members (RFC 9457 extensions)
        if code:
            self.code = code


class InvalidInput(TesseraError):
    status = 400
    code = "invalid_input"
    title = "Bad request"


class NotAuthenticated(TesseraError):
    status = 401
    code = "not_authenticated"
    title = "Authentication required"


class PermissionDenied(TesseraError):
    status = 403
    code = "permission_denied"
    title = "Forbidden"


class NotFound(TesseraError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(TesseraError):
    status = 409
    code = "conflict"
    title = "Conflict"


class ValidationFailed(TesseraError):
    status = 422
    code = "validation_failed"
    title = "Validation failed"


class RateLimited(TesseraError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str = "", *, retry_after: int, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.retry_after = max(1, int(retry_after))


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, Any]:
    """One entry of a problem's `errors` list."""
    return {"field": field, "message": message, "code": code}
