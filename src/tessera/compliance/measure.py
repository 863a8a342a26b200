"""A number together with the SQL that produced it: `measure(name, description, compute)`.

Evidence for an auditor is only as good as its provenance: each metric carries the exact
statements the database ran to compute it (captured from the connection, parameters inlined by
the driver's own quoting where Django can show them), so it can be re-run against a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

READ_PREFIXES = ("SELECT", "WITH")


def measure(name: str, description: str, compute: Callable[[], Any]) -> dict[str, Any]:
    """Run `compute` and return `{name, description, value, queries}`."""
    with CaptureQueriesContext(connection) as captured:
        value = compute()
    queries = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(READ_PREFIXES)
    ]
    return {"name": name, "description": description, "value": value, "queries": queries}


def share(part: int, whole: int) -> float | None:
    """part / whole as a percentage with one decimal, None when there is nothing to divide."""
    return round(100.0 * part / whole, 1) if whole else None
