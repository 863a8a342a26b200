"""The per-layer profile of the HTTP suite: py-spy's raw stacks counted by layer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from benchmarks.http.layers import (
    KERNEL,
    OTHER,
    OUTSIDE_GIL,
    Sampler,
    classify,
    count_raw,
    shares,
)
from benchmarks.http.report import layer_table

ROOT = 'process 1:"tessera serve";<module> (tessera:10);main (tessera/cli.py:13)'
LOOP = "Runner.run (asyncio/runners.py:118);RequestResponseCycle.run_asgi (uvicorn/protocols/http/httptools_impl.py:422)"  # noqa: E501
THREAD = "Thread.run (threading.py:982);_worker (concurrent/futures/thread.py:83)"
VIEW = "FastPath._respond (tessera/fastpath/app.py:131);check (tessera/api/routers/authz.py:40)"


def test_a_sample_goes_to_the_innermost_frame_that_has_a_layer():
    frames = [*THREAD.split(";"), *VIEW.split(";"), "dumps (json/__init__.py:231)"]
    assert classify(frames) == "JSON"


def test_frames_outside_every_layer_pass_the_sample_to_their_caller():
    frames = [*VIEW.split(";"), "inner (functools.py:10)", "_type_check (typing.py:190)"]
    assert classify(frames) == "Tessera views, services, middleware"


def test_the_orm_called_by_authentication_is_the_orm_and_the_driver_is_the_driver():
    auth = "authenticate (tessera/authn/bearer.py:50)"
    orm = "QuerySet.get (django/db/models/query.py:633)"
    driver = "Cursor.execute (psycopg/cursor.py:97)"
    assert classify([auth, orm]) == "Django ORM (compile queries, build rows)"
    assert classify([auth, orm, driver]) == "PostgreSQL driver (psycopg)"
    assert classify([auth]) == "authentication (tokens, sessions, API keys)"


def test_a_stack_in_no_layer_is_other():
    assert classify(["<module> (foo.py:1)", "bar (baz/qux.py:2)"]) == OTHER


def test_raw_lines_are_counted_per_layer():
    lines = [
        f"{ROOT};{LOOP} 30",
        f"{ROOT};{THREAD};{VIEW};dumps (json/__init__.py:231) 10",
        f"{ROOT};{THREAD};{VIEW} 60",
        "not a sample line",
    ]
    assert count_raw(lines) == {
        "HTTP server and event loop (uvicorn, httptools, asyncio)": 30,
        "JSON": 10,
        "Tessera views, services, middleware": 60,
    }


def test_layers_are_sampled_python_time_plus_the_measured_kernel_and_outside_the_gil_rest():
    counts = Counter({"JSON": 10, "Tessera views, services, middleware": 30})
    # 40 samples at 100/s over 100 requests: 4 ms of Python per request
    table = shares(counts, rate=100, requests=100, cpu_ms=7.0, system_ms=2.0)
    assert [(s.layer, round(s.cpu_ms, 3)) for s in table] == [
        ("Tessera views, services, middleware", 3.0),
        (KERNEL, 2.0),
        ("JSON", 1.0),
        (OUTSIDE_GIL, 1.0),
    ]
    assert round(sum(s.cpu_ms for s in table), 6) == 7.0


def test_samples_that_explain_more_than_the_user_time_leave_nothing_outside_the_gil():
    table = shares(Counter({"JSON": 50}), rate=100, requests=100, cpu_ms=5.0, system_ms=1.0)
    assert [s.layer for s in table] == ["JSON", KERNEL]


def test_the_layer_table_has_a_column_per_profiled_row_and_the_totals():
    records = [
        {
            "key": "check",
            "db": "postgres",
            "profile": {
                "cpu_ms": 2.0,
                "system_ms": 0.5,
                "python_ms": 1.2,
                "layers": {"JSON": 0.5, "other": 1.5},
            },
        },
        {"key": "me", "db": "postgres"},  # not profiled: no column
    ]
    lines = layer_table(records)
    assert lines[0] == "| layer | check (postgres) |"
    assert "| other | 1.500 |" in lines
    assert "| JSON | 0.500 |" in lines
    assert lines[-2].endswith("**2.000** |") and lines[-1].endswith("1.200 |")


@pytest.mark.skipif(sys.platform != "linux", reason="py-spy reads /proc")
def test_the_sampler_records_a_busy_python_process(tmp_path):
    busy = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "import json\nwhile True: json.dumps(list(range(1000)))"]
    )
    try:
        time.sleep(0.3)
        sampler = Sampler(busy.pid, 2, tmp_path / "busy.raw")
        counts = sampler.counts()
    except RuntimeError as error:  # ptrace refused (a locked-down container)
        if "Permission" in str(error) or "ptrace" in str(error).lower():
            pytest.skip(f"py-spy may not attach here: {error}")
        raise
    finally:
        busy.kill()
        busy.wait()
    assert counts["JSON"] > 0.5 * sum(counts.values()) > 0
    assert os.path.getsize(tmp_path / "busy.raw") > 0
