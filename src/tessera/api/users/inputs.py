"""/api/v1/users: the input schemas (what a request may send)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from ninja import Schema
from ninja.errors import HttpError
from pydantic import ConfigDict

from tessera.administration.bulk_import import BULK_MAX_ROWS, bulk_rows_from_csv
from tessera.api.instants import Instant
from tessera.api.rule_schema import RuleList
from tessera.api.text_guard import ensure_storable
from tessera.errors import ValidationFailed, field_error

BULK_MAX_BYTES = 2 * 1024 * 1024


class UserFilters(Schema):
    q: str | None = None
    role: str | None = None
    status: str | None = None
    department: str | None = None


class UserIn(Schema):
    email: str
    password: str | None = None
    must_change_password: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    timezone: str | None = None
    language: str | None = None
    avatar_url: str | None = None
    roles: list[str] | None = None
    department: str | None = None
    job_title: str | None = None
    manager_id: str | None = None
    employee_id: str | None = None
    cost_center: str | None = None
    clearance_level: int | None = None
    attributes: dict[str, Any] | None = None


class UserPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    timezone: str | None = None
    language: str | None = None
    avatar_url: str | None = None
    department: str | None = None
    job_title: str | None = None
    manager_id: str | None = None
    employee_id: str | None = None
    cost_center: str | None = None
    clearance_level: int | None = None
    attributes: dict[str, Any] | None = None
    gdpr_consent_at: Instant | None = None


class RolesIn(Schema):
    roles: list[str]


class RulesIn(Schema):
    rules: RuleList


def bulk_rows(request) -> list[dict[str, Any]]:
    """The rows of a bulk request: `{users: [...]}`, a `text/csv` body, or a multipart file."""
    content_type = (request.content_type or "").lower()
    try:
        if content_type == "multipart/form-data":
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed(
                    "No file", errors=[field_error("file", "Upload the CSV as `file`.", "required")]
                )
            if upload.size > BULK_MAX_BYTES:
                raise HttpError(413, "The file exceeds the size limit") from RequestDataTooBig()
            return bulk_rows_from_csv(_csv_text(upload.read()))
        raw = request.body
    except RequestDataTooBig as exc:
        raise HttpError(413, "The request body exceeds the size limit") from exc
    if content_type in ("text/csv", "application/csv"):
        return bulk_rows_from_csv(_csv_text(raw))
    if content_type not in ("application/json", ""):
        raise HttpError(415, "Send application/json, text/csv or multipart/form-data")
    try:
        document = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "Malformed JSON", errors=[field_error("body", "Not valid JSON.", "malformed")]
        ) from None
    ensure_storable(document)
    users = document.get("users") if isinstance(document, dict) else None
    if not isinstance(users, list):
        raise ValidationFailed(
            "Invalid body", errors=[field_error("users", "A list of users.", "required")]
        )
    if len(users) > BULK_MAX_ROWS:
        raise ValidationFailed(
            "Too many rows",
            errors=[field_error("users", f"At most {BULK_MAX_ROWS} rows per request.", "too_many")],
        )
    return users


def _csv_text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "The CSV is not UTF-8", errors=[field_error("file", "Encode the CSV as UTF-8.")]
        ) from None
    return ensure_storable(text, "file")
