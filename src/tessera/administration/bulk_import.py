"""Bulk import of members: CSV rows, at most BULK_MAX_ROWS, each created or reported."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from tessera.administration.member_input import CREATE_FIELDS, _clean_create
from tessera.administration.member_selectors import member_by_email
from tessera.administration.members import _member_create_clean
from tessera.audit.services import Actor
from tessera.errors import TesseraError, ValidationFailed, field_error
from tessera.tenancy.models import Membership, Tenant

BULK_MAX_ROWS = 1000


@dataclass(slots=True)
class BulkRowResult:
    row: int
    email: str
    status: str  # "created" | "exists" | "error"
    id: str | None = None
    errors: list[dict] = field(default_factory=list)
    membership_status: str | None = None  # "active" | "invited" (the API's active/invited rule)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "email": self.email, "status": self.status}
        if self.id:
            out["id"] = self.id
        if self.membership_status:
            out["membership_status"] = self.membership_status
        if self.errors:
            out["errors"] = self.errors
        return out


CSV_COLUMNS = frozenset(CREATE_FIELDS - {"password", "must_change_password", "attributes"})
CSV_LIST_SEPARATORS = (";", "|")


def bulk_rows_from_csv(text: str) -> list[dict[str, Any]]:
    """Rows of a CSV document with a header line (stdlib csv); `roles` separated by `;` or `|`."""
    if not text.strip():
        raise ValidationFailed("Empty CSV", errors=[field_error("file", "No rows.", "empty")])
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        unknown = [h for h in header if h not in CSV_COLUMNS]
        if "email" not in header or unknown:
            errors = [
                field_error("columns", f"Unknown column {h!r}.", "unknown_column") for h in unknown
            ]
            if "email" not in header:
                errors.append(field_error("columns", "An `email` column is required.", "required"))
            raise ValidationFailed("Invalid CSV header", errors=errors)
        reader.fieldnames = header
        rows: list[dict[str, Any]] = []
        for number, raw in enumerate(reader, start=2):
            if len(rows) >= BULK_MAX_ROWS:
                raise _too_many()
            if None in raw:  # more cells than columns
                raise ValidationFailed(
                    "Invalid CSV row",
                    errors=[field_error(f"rows[{len(rows)}]", f"Line {number}: too many cells.")],
                )
            row: dict[str, Any] = {}
            for key, value in raw.items():
                value = (value or "").strip()
                if not value:
                    continue
                if key == "roles":
                    for sep in CSV_LIST_SEPARATORS:
                        value = value.replace(sep, ",")
                    row[key] = [r.strip() for r in value.split(",") if r.strip()]
                else:
                    row[key] = value
            rows.append(row)
    except csv.Error as exc:
        raise ValidationFailed(
            "Malformed CSV", errors=[field_error("file", f"Line {reader.line_num}: {exc}.")]
        ) from None
    return rows


def _too_many() -> ValidationFailed:
    return ValidationFailed(
        "Too many rows",
        errors=[field_error("users", f"At most {BULK_MAX_ROWS} rows per request.", "too_many")],
    )


def member_bulk_create(
    *,
    tenant: Tenant,
    rows: Sequence[Mapping[str, Any]],
    by: Membership | None,
    actor: Actor | None = None,
) -> list[BulkRowResult]:
    """Create many members, idempotent by email, with one result per row.

    All rows are validated first: any invalid row refuses the whole request (422 listing each
    error as `users[i].field`) and nothing is written. Then each row is written in its own
    savepoint: a row that fails there (a guard rail, a duplicate employee id) is reported and
    leaves nothing behind, the others are kept. A row whose email is already a member is
    `exists` and is not changed, so the same import can be run twice. Each row follows
    member_create's rule: `membership_status` is `active` for a new identity or one this tenant
    manages, `invited` (with an invitation mailed) for anyone else.
    """
    if len(rows) > BULK_MAX_ROWS:
        raise _too_many()
    if not rows:
        raise ValidationFailed("No rows", errors=[field_error("users", "No rows.", "empty")])
    cleaned, errors = [], []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            errors.append(field_error(f"users[{index}]", "An object."))
            continue
        data = {k: v for k, v in row.items() if k not in ("password", "must_change_password")}
        try:
            cleaned.append(_clean_create(tenant, data))
        except ValidationFailed as exc:
            for err in exc.errors or []:
                errors.append({**err, "field": f"users[{index}].{err['field']}"})
    if errors:
        raise ValidationFailed("Invalid rows; nothing was imported", errors=errors)

    results: list[BulkRowResult] = []
    seen: dict[str, BulkRowResult] = {}
    with transaction.atomic():
        for index, clean in enumerate(cleaned):
            email = clean["email"]
            if email in seen:
                results.append(BulkRowResult(index, email, "exists", seen[email].id))
                continue
            existing = member_by_email(tenant=tenant, email=email)
            if existing is not None:
                result = BulkRowResult(
                    index, email, "exists", str(existing.user_id), membership_status=existing.status
                )
            else:
                try:
                    with transaction.atomic():
                        created = _member_create_clean(
                            tenant=tenant, clean=clean, by=by, actor=actor
                        )
                    result = BulkRowResult(
                        index,
                        email,
                        "created",
                        str(created.membership.user_id),
                        membership_status=created.membership.status,
                    )
                except TesseraError as exc:
                    result = BulkRowResult(
                        index,
                        email,
                        "error",
                        errors=exc.errors or [field_error("row", exc.detail, exc.code)],
                    )
            seen[email] = result
            results.append(result)
    return results
