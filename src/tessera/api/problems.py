"""The one `Problem` schema: what every view declares for its problem+json answers and what the
OpenAPI components are generated from (the responses themselves are built by `tessera.problems`)."""

from __future__ import annotations

from ninja import Schema


class FieldProblem(Schema):
    field: str
    message: str
    code: str


class Problem(Schema):
    """An RFC 9457 problem (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None
