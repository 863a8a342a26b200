"""`python -m benchmarks.http` (`make bench-http`): the HTTP suite, its table, docs/benchmarks.*.

python -m benchmarks.http [--rows check,batch,me,refresh,users,admin,login]
                          [--db postgres|sqlite|both] [--duration 10] [--warmup 2] [--no-write]
                          [--profile 15]

--profile S runs each row once more for S seconds with py-spy sampling the server, and shows where
its server CPU goes, per layer (benchmarks.http.layers); the row's own numbers come from the run
without the profiler.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time

from benchmarks.http.report import (
    ENTRY,
    cpu_model,
    layer_table,
    load_average,
    merge,
    row_record,
    table,
)
from benchmarks.http.rows import select
from benchmarks.http.suite import run_database
from benchmarks.http.wrk import wrk_binary
from benchmarks.report import REPORT, ROOT, load, machine, write

NOTES = (
    "`tessera serve` with one uvicorn worker (its default, also for the login row) on loopback, "
    "a tenant of 100,000 seeded members (about 1 % named Smith); PostgreSQL + Redis "
    "(`postgres`) or SQLite without Redis (`sqlite`). Load from wrk (Lua scripts: bodies, "
    "headers, refresh-token rotation with one chain per connection; percentiles from wrk's "
    "done()), 2 wrk threads (1 for one connection), keep-alive, a warm-up run before each "
    "measured one (not for refresh); login runs at least 20 s. Rate limits are raised for the "
    "server process (TESSERA_RATE_LIMIT_API, _BULK, _DECISIONS, _IP_FAILURES, _AUTH_FAILURES). "
    "Server CPU = utime + stime "
    "of the server process and its children (/proc/<pid>/stat) over the run, per request; "
    "1,000 / that bounds one worker's rate on an idle core. wrk CPU = the generator's "
    "(getrusage of the child), per request and in cores: well under the server's, the "
    "generator is not the bottleneck. The batch rows' target is the latency of one 1,000-check "
    "batch (20 members, `subject_id`); with 16 connections it includes queueing. Errors = "
    "socket errors, timeouts and answers ≥ 400 (refresh: any answer without a new token); a row "
    "with errors is not met."
)
NOISY_LOAD_PER_CORE = 0.5


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http", description=__doc__)
    parser.add_argument("--rows", default="", help="comma-separated rows (default: all)")
    parser.add_argument("--db", choices=("postgres", "sqlite", "both"), default="both")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per row")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per row")
    parser.add_argument("--no-write", action="store_true", help="print only, keep docs/")
    parser.add_argument(
        "--profile", type=float, default=0, help="seconds of a py-spy run per row (0: none)"
    )
    options = parser.parse_args(argv)
    if options.duration < 1 or options.warmup < 0:
        parser.error("--duration must be ≥ 1 and --warmup ≥ 0")
    try:
        options.selected = select(options.rows)
    except ValueError as error:
        parser.error(str(error))
    return options


def run_entry(previous: dict | None, argv: list[str] | None = None) -> dict:
    """Run the suite; print its table; the docs/benchmarks.json entry, merged with `previous`."""
    options = parse_args(argv or [])
    wrk_binary()  # fail now, not after the seed, when wrk is missing
    load = load_average()
    cores = os.cpu_count() or 1
    print(f"load average at start: {load} on {cores} cores", flush=True)
    started = time.perf_counter()
    databases = ("postgres", "sqlite") if options.db == "both" else (options.db,)
    records, seeding = [], {}
    for db in databases:
        facts, results = run_database(
            db,
            options.selected,
            seconds=options.duration,
            warmup=options.warmup,
            profile=options.profile,
        )
        if facts["seed_seconds"] is not None:
            seeding[db] = facts["seed_seconds"]
        records += [row_record(result, load=load) for result in results]
    seconds = time.perf_counter() - started
    print("\n".join(table(records)))
    if options.profile:
        print("\n".join(layer_table(records)))
    print(f"({seconds:.0f} s, load average now {load_average()})")
    noisy = float(load.split()[0]) > NOISY_LOAD_PER_CORE * cores
    meta = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "nproc": cores,
        "cpu": cpu_model(),
        "load_average_start": load,
        "seconds": seconds,
        "notes": NOTES,
        "caveat": (
            f"Noisy machine (load average {load} at start on {cores} cores, other work "
            "running): these numbers are to be rerun on a quiet machine."
            if noisy
            else ""
        ),
    }
    if seeding:
        meta["seed_seconds"] = seeding
    return merge(previous, records, meta=meta)


def main(argv: list[str]) -> int:
    results = load()
    results[ENTRY] = run_entry(results.get(ENTRY), argv)
    if "--no-write" not in argv:
        write(results)
        print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0
