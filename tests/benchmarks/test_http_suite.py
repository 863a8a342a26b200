"""The HTTP suite's own parts (benchmarks.http): wrk's Lua scripts against a tiny local server,
the JSON summary they print, targets, the table and the merge into docs/benchmarks.json, and the
server's CPU time counted with its children. Fast (about 2 s of wrk); the wrk tests are skipped
where wrk is not installed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from benchmarks.http.report import merge, row_record, table
from benchmarks.http.rows import BY_KEY, Target, batch_body, select
from benchmarks.http.server import _stat, tree_cpu_seconds
from benchmarks.http.suite import RowResult
from benchmarks.http.wrk import WrkError, parse_summary, result_from, run_wrk

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")

SUMMARY = {
    "requests": 3000,
    "duration_us": 2_000_000,
    "bytes": 1,
    "errors_connect": 0,
    "errors_read": 1,
    "errors_write": 0,
    "errors_status": 2,
    "errors_timeout": 0,
    "bad_answers": 3,
    "latency_min_us": 100,
    "latency_mean_us": 900.5,
    "latency_max_us": 40_000,
    "p50_us": 800,
    "p90_us": 1500,
    "p99_us": 9000,
    "p99.9_us": 20_000,
}


class Recorder(BaseHTTPRequestHandler):
    """POST /echo answers 200 and records what came; POST /refresh rotates tokens as Tessera
    does: a token works once and the answer carries the next one."""

    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects

    def log_message(self, *args) -> None:
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        state = self.server.state
        with state["lock"]:
            if self.path == "/echo":
                state["seen"].append((self.headers.get("X-Bench"), body))
                self._answer(200, {"ok": True})
                return
            token = json.loads(body)["refresh_token"]
            if token not in state["live"]:
                state["refused"] += 1
                self._answer(401, {"title": "spent"})
                return
            state["live"].remove(token)
            state["issued"] += 1
            fresh = f"t{state['issued']}-{token[:3]}"
            state["live"].add(fresh)
        self._answer(200, {"access_token": "a", "refresh_token": fresh, "expires_in": 900})


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    server.state = {"lock": threading.Lock(), "seen": [], "live": set(), "issued": 0, "refused": 0}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@needs_wrk
def test_static_script_sends_the_method_headers_and_body_and_reports_json(recorder, tmp_path):
    body = tmp_path / "body"
    body.write_bytes(b'{"action":"user:read"}')
    url = f"http://127.0.0.1:{recorder.server_port}/echo"
    result = run_wrk(
        url, connections=2, seconds=1, method="POST", headers={"X-Bench": "yes"}, body_file=body
    )
    seen = recorder.state["seen"]
    assert result.requests > 0 and len(seen) >= result.requests
    assert set(seen) == {("yes", b'{"action":"user:read"}')}
    assert result.errors == 0 and result.bad_answers == 0
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert result.generator_cpu_seconds > 0


@needs_wrk
def test_refresh_script_rotates_every_chain_without_reusing_a_token(recorder, tmp_path):
    tokens = [f"head{n}" for n in range(4)]  # one per connection: none to spare
    recorder.state["live"].update(tokens)
    pool = tmp_path / "tokens"
    pool.write_text("\n".join(tokens) + "\n")
    url = f"http://127.0.0.1:{recorder.server_port}/refresh"
    result = run_wrk(
        url, connections=4, seconds=1, method="POST", script="refresh.lua", tokens_file=pool
    )
    assert result.requests > len(tokens)  # chains were followed, not just the heads spent
    assert recorder.state["refused"] == 0  # no token was sent twice
    assert result.bad_answers == 0 and result.errors == 0
    assert recorder.state["issued"] >= result.requests


@needs_wrk
def test_a_refused_refresh_counts_as_a_bad_answer(recorder, tmp_path):
    pool = tmp_path / "tokens"
    pool.write_text("never-issued\n")
    url = f"http://127.0.0.1:{recorder.server_port}/refresh"
    result = run_wrk(url, connections=1, seconds=1, script="refresh.lua", tokens_file=pool)
    assert result.bad_answers >= 1
    assert result.errors >= 1  # the 401 itself


def test_the_summary_line_is_found_among_wrk_output_and_read():
    out = "Running 2s test @ http://x\n  2 threads\nWRK_JSON " + json.dumps(SUMMARY) + "\n"
    result = result_from(parse_summary(out), generator_cpu_seconds=0.3)
    assert result.req_per_s == 1500
    assert (result.p50_ms, result.p99_ms, result.max_ms) == (0.8, 9.0, 40.0)
    assert result.errors == 3 and result.bad_answers == 3


def test_output_without_a_summary_is_an_error():
    with pytest.raises(WrkError, match="WRK_JSON"):
        parse_summary("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_rows_are_selected_by_name_in_the_suite_order():
    assert [r.key for r in select("login,batch,check")] == ["check", "batch1", "batch16", "login"]
    assert len(select("")) == 8
    with pytest.raises(ValueError, match="unknown row 'chek'"):
        select("check,chek")


def test_the_batch_body_has_1000_checks_about_the_20_members():
    facts = {"subject_ids": [f"id{n}" for n in range(20)]}
    checks = json.loads(batch_body(facts))["checks"]
    assert len(checks) == 1000
    assert {c["subject_id"] for c in checks} == set(facts["subject_ids"])


def test_targets_compare_in_their_direction():
    assert Target("req_per_s", "≥", 3000).met({"req_per_s": 3000})
    assert not Target("p99_ms", "≤", 10).met({"p99_ms": 10.5})
    assert str(Target("cpu_ms", "≤", 0.3)) == "server CPU ≤ 0.3 ms/req"


def _record(db: str, key: str, requests: int, server_cpu: float):
    summary = {**SUMMARY, "requests": requests, "errors_read": 0, "errors_status": 0}
    wrk = result_from({**summary, "bad_answers": 0}, generator_cpu_seconds=0.2)
    return row_record(RowResult(BY_KEY[key], db, wrk, server_cpu), load="0.10 0.20 0.30")


def test_the_table_says_which_targets_are_missed_and_the_merge_replaces_rows():
    fast = _record("postgres", "check", requests=8000, server_cpu=0.8)  # 4,000/s, 0.1 ms
    slow = _record("postgres", "me", requests=1000, server_cpu=1.0)  # 500/s, 1 ms
    lines = table([fast, slow])
    assert lines[2].endswith("| met |") and "| 4,000 |" in lines[2]
    assert "not met: req/s ≥ 2,000; server CPU ≤ 0.5 ms/req" in lines[3]
    entry = merge({"rows": [slow]}, [fast], meta={"date": "d"})
    again = merge(entry, [_record("postgres", "me", requests=6000, server_cpu=0.6)], meta={})
    assert [(r["key"], r["req_per_s"]) for r in again["rows"]] == [("check", 4000), ("me", 3000)]
    assert again["table"][3].endswith("| met |")


def test_server_cpu_counts_the_children_of_the_server_process():
    # the child burns 0.6 s of CPU; /proc counts it in clock ticks, sampled, so a few ticks of
    # slack (0.5 s asked) keep the check about *whose* time is counted, not about tick accounting
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\n"
    child = [sys.executable, "-c", burn + "time.sleep(30)"]
    parent = subprocess.Popen(  # noqa: S603 - this interpreter
        [sys.executable, "-c", f"import subprocess; subprocess.run({child!r})"],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while tree_cpu_seconds(parent.pid) < 0.5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tree_cpu_seconds(parent.pid) >= 0.5
        own = _stat(parent.pid)
        assert own is not None and own[1] < 0.3  # the child's time, not the parent's
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
