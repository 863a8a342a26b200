"""`POST /api/v1/authz/check` over loopback: requests per second with 16 concurrent clients, p99,
and one 1,000-check batch — against `tessera serve` (one uvicorn worker) on a temporary SQLite
database, authenticated with a Bearer token from `/api/v1/auth/login`.

The load generator is httpx on asyncio in this process (16 keep-alive connections); a bounded run
(about 10 s). Rate limits are raised for the server process (as deployments do for benchmarks).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.bench_engine import django_setup

NOTES = (
    "One uvicorn worker (`tessera serve`), SQLite, no Redis, Bearer token; 16 concurrent httpx "
    "clients on loopback in the benchmark's own process (which shares the CPU). "
    "`server_cpu_ms_per_check` is the server process's CPU time per request: 1000 divided by it "
    "bounds what one worker can serve on an idle core. Targets: ≥ 3,000 checks/s, p99 ≤ 10 ms."
)

CLIENTS = 16
DURATION = 6.0
WARMUP = 1.5
PASSWORD = "bench-password-correct-horse-battery"
ACTIONS = ["user:read", "user:create", "role:read", "role:delete", "grant:read", "doc:read"]
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed() -> tuple[str, str]:
    """A tenant and a manager in it; returns (tenant slug, email)."""
    from tessera.access.services.assignments import role_assign_system
    from tessera.identity.models import User
    from tessera.tenancy.services import membership_create, tenant_create

    slug = f"http-bench-{random.randrange(10**9)}"
    email = f"{slug}@example.test"
    tenant = tenant_create(slug=slug, name="HTTP bench")
    user = User.objects.create_user(email, PASSWORD)
    membership = membership_create(tenant=tenant, user=user)
    role_assign_system(membership=membership, slug="manager")
    return slug, email


def start_server(var_dir: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "TESSERA_VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_RATE_LIMIT_API": "10000000/minute",
        "TESSERA_RATE_LIMIT_BULK": "100000/minute",
        "TESSERA_RATE_LIMIT_DECISIONS": "10000000/minute",
        "TESSERA_LOG_LEVEL": "WARNING",
    }
    env.pop("TESSERA_DATABASE_URL", None)
    env.pop("TESSERA_REDIS_URL", None)
    return subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "tessera.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def wait_ready(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


async def load(base: str, headers: dict[str, str]) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        start = time.perf_counter()
        warm_until = start + WARMUP
        stop = warm_until + DURATION

        async def worker(n: int) -> None:
            nonlocal errors
            i = n
            while True:
                now = time.perf_counter()
                if now >= stop:
                    return
                body = {"action": ACTIONS[i % len(ACTIONS)], "resource": {"type": "doc"}}
                i += 1
                sent = time.perf_counter()
                r = await client.post("/api/v1/authz/check", json=body)
                done = time.perf_counter()
                if r.status_code != 200:
                    errors += 1
                if sent >= warm_until:
                    latencies.append(done - sent)

        await asyncio.gather(*(worker(n) for n in range(CLIENTS)))
    return DURATION, latencies, errors


def run() -> dict[str, float]:
    var_dir = django_setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    slug, email = seed()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(var_dir, port)
    try:
        wait_ready(base)
        r = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"email": email, "password": PASSWORD, "tenant": slug},
            timeout=30,
        )
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        probe = httpx.post(
            f"{base}/api/v1/authz/check", json={"action": "user:read"}, headers=headers
        )
        assert probe.json() == {"allowed": True}, probe.text
        cpu_before = cpu_seconds(server.pid)
        seconds, latencies, errors = asyncio.run(load(base, headers))
        cpu_after = cpu_seconds(server.pid)
        latencies.sort()
        checks = [{"action": ACTIONS[i % len(ACTIONS)]} for i in range(1000)]
        batch_ms = []
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(6):
                started = time.perf_counter()
                answer = client.post("/api/v1/authz/check/batch", json={"checks": checks})
                batch_ms.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200 and len(answer.json()["results"]) == 1000
        numbers = {
            "http_check_req_per_s": len(latencies) / seconds,
            "http_check_p50_ms": latencies[len(latencies) // 2] * 1000,
            "http_check_p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "http_check_errors": float(errors),
            "http_batch_1000_ms_median": statistics.median(batch_ms[1:]),
            "http_batch_1000_ms_first": batch_ms[0],
        }
        if cpu_before is not None and cpu_after is not None:
            # server CPU per request (warm-up included): what one worker needs on an idle core
            served = len(latencies) * (seconds + WARMUP) / seconds
            numbers["server_cpu_ms_per_check"] = (cpu_after - cpu_before) * 1000 / served
        return numbers
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value:,.2f}")
