"""SCIM's errors (RFC 7644 §3.12): each a TesseraError with a stable `code` and a `scimType`.

    TesseraError
    ├── ScimInvalidSyntax     400 invalidSyntax   malformed JSON, a body that is no SCIM message
    ├── ScimInvalidFilter     400 invalidFilter   a filter that does not parse
    ├── ScimInvalidValue      400 invalidValue    a value that does not fit its attribute
    ├── ScimMutability        400 mutability      a write to a read-only or immutable attribute
    ├── ScimTooMany           400 tooMany         `count` beyond the maximum
    ├── ScimUniqueness        409 uniqueness      a duplicate userName, externalId or displayName
    ├── ScimNotFound          404                 absent, or another tenant's
    ├── ScimPreconditionFailed 412                If-Match does not match the current version
    └── ScimUnauthorized      401                 no, a malformed, unknown or revoked credential

Other TesseraErrors raised by the services below keep their status; `scim_error_body` gives every
one the SCIM form.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from scim2_models import Error

from tessera.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TesseraError,
)

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimBadRequest(InvalidInput):
    scim_type = ""


class ScimInvalidSyntax(ScimBadRequest):
    code = "scim_invalid_syntax"
    scim_type = "invalidSyntax"


class ScimInvalidFilter(ScimBadRequest):
    code = "scim_invalid_filter"
    scim_type = "invalidFilter"


class ScimInvalidValue(ScimBadRequest):
    code = "scim_invalid_value"
    scim_type = "invalidValue"


class ScimInvalidPath(ScimBadRequest):
    code = "scim_invalid_path"
    scim_type = "invalidPath"


class ScimNoTarget(ScimBadRequest):
    code = "scim_no_target"
    scim_type = "noTarget"


class ScimMutability(ScimBadRequest):
    code = "scim_mutability"
    scim_type = "mutability"


class ScimTooMany(ScimBadRequest):
    code = "scim_too_many"
    scim_type = "tooMany"


class ScimUniqueness(Conflict):
    code = "scim_uniqueness"
    scim_type = "uniqueness"


class ScimNotFound(NotFound):
    code = "scim_not_found"


class ScimPreconditionFailed(TesseraError):
    status = 412
    code = "scim_precondition_failed"
    title = "Precondition failed"


class ScimUnauthorized(NotAuthenticated):
    code = "scim_unauthorized"


class ScimMethodNotAllowed(TesseraError):
    status = 405
    code = "scim_method_not_allowed"
    title = "Method not allowed"


SCIM_TYPES = {
    "invalidSyntax": ScimInvalidSyntax,
    "invalidFilter": ScimInvalidFilter,
    "invalidValue": ScimInvalidValue,
    "invalidPath": ScimInvalidPath,
    "noTarget": ScimNoTarget,
    "mutability": ScimMutability,
    "tooMany": ScimTooMany,
    "uniqueness": ScimUniqueness,
}


def scim_error_for(*, scim_type: str | None, detail: str, status: int = 400) -> TesseraError:
    """The error class of a scimType (scim2-models' exceptions carry one); 400 otherwise."""
    cls = SCIM_TYPES.get(scim_type or "")
    if cls is not None:
        return cls(detail)
    if status == 404:
        return ScimNotFound(detail)
    if status == 409:
        return ScimUniqueness(detail)
    return ScimInvalidValue(detail)


def scim_error_from_validation(exc: ValidationError) -> TesseraError:
    """The first of a pydantic validation's errors, as scim2-models maps it to RFC 7644 §3.12."""
    errors = Error.from_validation_errors(exc)
    first = errors[0] if errors else Error(status=400, scim_type="invalidValue", detail=str(exc))
    return scim_error_for(
        scim_type=first.scim_type,
        detail=first.detail or "Invalid value",
        status=first.status or 400,
    )


def scim_error_body(error: TesseraError) -> dict[str, Any]:
    """RFC 7644 §3.12: `status` as a string, `scimType` where one applies, `detail`."""
    body: dict[str, Any] = {
        "schemas": [ERROR_SCHEMA],
        "status": str(error.status),
        "detail": error.detail,
    }
    scim_type = getattr(error, "scim_type", "")
    if scim_type:
        body["scimType"] = scim_type
    elif error.status == 400:
        body["scimType"] = "invalidValue"
    return body
