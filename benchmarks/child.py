"""Benchmarks that measure in a child process on a PostgreSQL database of their own.

The child has its own Django settings (database, raised rate limits), so they cannot collide
with other benchmarks run by `python -m benchmarks`; it prints its numbers as JSON last.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys


def ensure_database(url: str) -> None:
    """Create the database `url` names when it is missing."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    params = {
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": cfg.get("PORT") or 5432,
        "user": cfg.get("USER") or "postgres",
        "password": cfg.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds of durations in seconds."""
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return p50 * 1000, p99 * 1000


def run_child(module: str, *, default_url: str, env: dict[str, str] | None = None) -> dict:
    """Run `python -m <module> --child` against TESSERA_DATABASE_URL (else `default_url`, created
    when missing) with raised rate limits; print and return the numbers it reports."""
    url = os.environ.get("TESSERA_DATABASE_URL", default_url)
    ensure_database(url)
    environment = {
        **os.environ,
        "TESSERA_DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_RATE_LIMIT_API": "1000000/minute",
        "TESSERA_RATE_LIMIT_DECISIONS": "1000000/minute",
        "TESSERA_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    environment.pop("TESSERA_ENV", None)
    out = subprocess.run(
        [sys.executable, "-m", module, "--child"],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    numbers = json.loads(out.stdout.strip().splitlines()[-1])
    for key, value in numbers.items():
        print(f"  {key}: {value}")
    return numbers
