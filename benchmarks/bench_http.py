"""The HTTP suite (benchmarks.http) as one of `make bench`'s benchmarks: every row, both
databases (PostgreSQL + Redis, SQLite), default durations."""

from __future__ import annotations

from benchmarks.http.cli import run_entry

__all__ = ["run_entry"]
