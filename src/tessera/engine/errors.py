"""Errors raised by the policy engine when its *input* is malformed.

    PolicyError         bad permission, malformed action, role cycle, unknown role, bad rule
    └── ConditionError  bad condition tree (unknown operator, wrong arity, bad path, ...)

A denied check is never an error: `decide` returns a `Decision` with `allowed=False`.

The engine imports only the standard library, so these do not subclass `tessera.errors`; they carry
the same attributes (`status`, `code`, `title`, `detail`, `errors`) so that the access layer can map
them to `ValidationFailed` (422) in one line.
"""

from __future__ import annotations

from typing import Any


class PolicyError(ValueError):
    """The policy input (or an action given to `decide`) is malformed."""

    status = 422
    code = "policy_invalid"
    title = "Invalid policy"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    @property
    def errors(self) -> list[dict[str, Any]] | None:
        """Problem+json `errors` entries (one, naming the offending field when known)."""
        if self.field is None:
            return None
        return [{"field": self.field, "message": self.detail, "code": self.code}]


class ConditionError(PolicyError):
    """A condition tree cannot be compiled; `path` locates the bad node (`condition.all[1]`)."""

    code = "condition_invalid"
    title = "Invalid condition"

    def __init__(self, detail: str, *, path: str = "condition", field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.path = path

    @classmethod
    def at(cls, message: str, where: str) -> ConditionError:
        """`<message> at <where>`, with `where` as the path."""
        return cls(f"{message} at {where}", path=where)
