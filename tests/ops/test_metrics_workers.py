"""Issue 18: `tessera serve --workers 2` reports the requests of both workers in every scrape.

The scrape is answered by whichever worker the kernel hands the connection to; each answer must
hold the total of both (the multiprocess directory merged), and the directory holds each worker's
own files. The allowlist (`TESSERA_METRICS_ALLOW`) opens /metrics to loopback without a token.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.e2e.harness import tessera_serve

pytestmark = [pytest.mark.e2e]

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


def test_two_workers_report_together(tmp_path):
    env = {"TESSERA_METRICS_ALLOW": "127.0.0.1/32", "TESSERA_LOG_LEVEL": "WARNING"}
    var = tmp_path / "var"
    with tessera_serve(var, extra_env=env, serve_args=("--workers", "2")) as server:
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
