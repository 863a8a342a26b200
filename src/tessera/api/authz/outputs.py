"""/api/v1/authz: the output schemas and the shaping of answers."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import BaseModel
from typing_extensions import TypedDict


class CheckOut(Schema):
    allowed: bool


class BatchResult(TypedDict):
    """One answer of a batch (`CheckOut`, as a plain mapping: 1,000 of them are checked fast)."""

    allowed: bool


class BatchOut(BaseModel):
    results: list[BatchResult]


class ExplainOut(Schema):
    allowed: bool
    reason: str
    matched: list[dict[str, Any]]
    evaluated: list[dict[str, Any]]
    policy_version: str
    subject_id: str
    action: str


class FieldsOut(Schema):
    readable: list[str]
    writable: list[str]
    unreadable: list[str]
    unwritable: list[str]


class SubjectOut(Schema):
    user_id: str
    email: str
    membership_id: str
    department: str
    job_title: str
    conditional: bool
    sources: list[dict[str, Any]]


class SubjectsOut(Schema):
    items: list[SubjectOut]
    next_cursor: str | None
