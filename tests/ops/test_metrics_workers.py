"""Issue 18: `tessera serve --workers 2` reports the requests of both workers in every scrape.

The scrape is answered by whichever worker the kernel hands the connection to; each answer must
hold the total of both (the multiprocess directory merged), and the directory holds each worker's
own files. The allowlist (`TESSERA_METRICS_ALLOW`) opens /metrics to loopback without a token.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tessera import metrics
from tessera.api.metrics_scrape import exposition
from tests.e2e.harness import tessera_serve

HEALTHZ = 'tessera_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}'
REQUESTS = 40


def _healthz_count(text: str) -> float:
    found = re.search(rf"^{re.escape(HEALTHZ)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _per_worker_healthz(directory) -> dict[str, float]:
    """Each worker's own count, read from its file alone."""
    counts = {}
    for path in sorted(directory.glob("histogram_*.db")):
        for family in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in family.samples:
                if sample.name.endswith("_count") and sample.labels.get("route") == "/healthz":
                    counts[path.stem] = counts.get(path.stem, 0.0) + sample.value
    return counts


EXITED = """
import tessera.metrics as m
m.login_attempt("success")
m.websocket_opened()
m.websocket_opened()
m.websocket_closed()
"""
LIVE = (
    EXITED
    + """
print("counted", flush=True)
input()
"""
)


@pytest.mark.django_db
def test_the_scrape_merges_what_each_worker_process_counted(tmp_path, monkeypatch):
    """Two processes count into one directory, as `tessera serve` workers do; the scrape sums
    them, and the one that exited takes its open WebSocket out of the gauge."""
    env = {**os.environ, metrics.MULTIPROC_ENV: str(tmp_path)}
    subprocess.run([sys.executable, "-c", EXITED], env=env, check=True, timeout=60)  # noqa: S603
    live = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", LIVE], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert live.stdout.readline() == b"counted\n"
        monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path))
        monkeypatch.setattr(metrics, "MULTIPROCESS", True)
        text = exposition().decode()
    finally:
        live.communicate(b"\n", timeout=60)
    assert 'tessera_login_attempts_total{outcome="success"} 2.0' in text
    assert 'tessera_websocket_connects_total{outcome="accepted"} 4.0' in text
    assert "\ntessera_websocket_connections 1.0\n" in text  # the live process's one
    assert "tessera_active_sessions" in text


@pytest.mark.e2e
def test_two_workers_report_together(tmp_path):
    env = {"TESSERA_METRICS_ALLOW": "127.0.0.1/32", "TESSERA_LOG_LEVEL": "WARNING"}
    var = tmp_path / "var"
    # two workers import Django side by side: slower to start than one on a loaded machine
    serve = tessera_serve(var, extra_env=env, serve_args=("--workers", "2"), start_seconds=300)
    with serve as server:
        multiproc = var / "prometheus-multiproc"
        before = _healthz_count(httpx.get(f"{server.base}/metrics", timeout=30).text)

        def ping(_):  # a new connection each time, so that both workers get some
            return httpx.get(f"{server.base}/healthz", timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(ping, range(REQUESTS))) == {200}
        scrapes = [httpx.get(f"{server.base}/metrics", timeout=30) for _ in range(6)]
        assert {r.status_code for r in scrapes} == {200}
        assert {_healthz_count(r.text) for r in scrapes} == {before + REQUESTS}
        pids = {p.stem.rsplit("_", 1)[1] for p in multiproc.glob("counter_*.db")}
        assert len(pids) == 2, pids
        assert sum(_per_worker_healthz(multiproc).values()) == before + REQUESTS
        other = httpx.get(f"{server.base}/metrics", headers={"Authorization": "Bearer x"})
        assert other.status_code == 200  # the allowlisted address needs no token
    assert not multiproc.exists()  # removed when the server stopped
