"""The fast path over real HTTP: `POST /api/v1/authz/check`, `GET /api/v1/auth/me` (wrk, 16
keep-alive connections) and `POST /api/v1/auth/refresh` (16 httpx clients, each rotating its own
session's refresh token), against `tessera serve --workers 1` on PostgreSQL + Redis, with the fast
path on and off (`TESSERA_FAST_PATH`). Server CPU per request from /proc/<pid>/stat.

    TESSERA_BENCH_DATABASE_URL=postgres://… TESSERA_BENCH_REDIS_URL=redis://… \\
        python -m benchmarks.fast_path_http [seconds]

Not one of the `bench_*` modules `python -m benchmarks` runs: it needs the two services and wrk.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.http.server import free_port, tree_cpu_seconds, wait_ready

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
WRK = "/usr/bin/wrk"
# the signing keys in the database are sealed with a secret kept here: one directory per database
_VAR_DIR = str(Path(tempfile.gettempdir()) / "tessera-fastpath-bench")
CHECK_LUA = """
wrk.method = "POST"
wrk.body = '{"action": "user:read", "resource": {"type": "doc"}}'
wrk.headers["Content-Type"] = "application/json"
"""


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_DATABASE_URL": os.environ["TESSERA_BENCH_DATABASE_URL"],
        "TESSERA_REDIS_URL": os.environ["TESSERA_BENCH_REDIS_URL"],
        "TESSERA_RATE_LIMIT_API": "100000000/minute",
        "TESSERA_LOG_LEVEL": "WARNING",
        # one directory for both runs: `serve` collects the static files once
        "TESSERA_VAR_DIR": os.environ.get("TESSERA_VAR_DIR") or _VAR_DIR,
    }


def seed() -> tuple[str, list[str]]:
    """A member's access token and `CLIENTS` refresh tokens of sessions of their own."""
    os.environ.update(_env())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from tessera.access.services.assignments import role_assign_system
    from tessera.authn.sessions import session_create, session_tokens_issue
    from tessera.identity.models import User
    from tessera.tenancy.services import membership_create, tenant_create

    slug = f"fast-bench-{time.time_ns()}"
    tenant = tenant_create(slug=slug, name="Fast path bench")

    def tokens(n: int):
        """A session of a member of its own (a member's oldest sessions end past the limit)."""
        user = User.objects.create_user(f"{n}@{slug}.test", None)
        membership = membership_create(tenant=tenant, user=user)
        role_assign_system(membership=membership, slug="manager")
        session = session_create(user=user, tenant=tenant, membership=membership, ip="127.0.0.1")
        return session_tokens_issue(session=session)

    return tokens(0).access_token, [tokens(n + 1).refresh_token for n in range(CLIENTS)]


def start_server(port: int, fast: bool) -> subprocess.Popen:
    env = {**_env(), "TESSERA_FAST_PATH": "1" if fast else "0"}
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tessera.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wrk(url: str, token: str, seconds: int, script: str | None) -> tuple[float, float, int]:
    """(requests/s, p99 ms, requests) of a wrk run."""
    args = [WRK, "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "--latency"]
    args += ["-H", f"Authorization: Bearer {token}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    args += ["-s", lua.name, url]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    if "Non-2xx" in out:
        raise RuntimeError(out)
    return rate, p99_ms, total


async def _refresh(base: str, refresh_tokens: list[str], seconds: float) -> int:
    done = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base) as client:

        async def chain(token: str) -> None:
            nonlocal done
            while time.perf_counter() < stop:
                r = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
                r.raise_for_status()
                token = r.json()["refresh_token"]
                done += 1

        await asyncio.gather(*(chain(t) for t in refresh_tokens))
    return done


def measure(fast: bool, access: str, refresh_tokens: list[str], seconds: int) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port, fast)
    numbers: dict[str, float] = {}
    try:
        wait_ready(base, timeout=300)
        probe = httpx.post(
            f"{base}/api/v1/authz/check",
            json={"action": "user:read"},
            headers={"Authorization": f"Bearer {access}"},
        )
        if probe.status_code != 200:
            raise RuntimeError(probe.text)
        for name, path, script in (
            ("check", "/api/v1/authz/check", CHECK_LUA),
            ("me", "/api/v1/auth/me", None),
        ):
            _wrk(base + path, access, 1, script)  # warm-up
            before = tree_cpu_seconds(server.pid)
            rate, p99, total = _wrk(base + path, access, seconds, script)
            cpu = tree_cpu_seconds(server.pid) - before
            numbers |= {f"{name}_req_s": rate, f"{name}_p99_ms": p99}
            numbers[f"{name}_cpu_ms"] = cpu * 1000 / total
        before = tree_cpu_seconds(server.pid)
        started = time.perf_counter()
        total = asyncio.run(_refresh(base, refresh_tokens, seconds))
        elapsed = time.perf_counter() - started
        cpu = tree_cpu_seconds(server.pid) - before
        numbers |= {"refresh_req_s": total / elapsed, "refresh_cpu_ms": cpu * 1000 / total}
        return numbers
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    for fast in (False, True):
        access, refresh_tokens = seed()
        load = os.getloadavg()
        numbers = measure(fast, access, refresh_tokens, seconds)
        print(f"fast_path={int(fast)} load={load[0]:.1f}/{load[1]:.1f}")
        for key, value in numbers.items():
            print(f"  {key}: {value:,.2f}")


if __name__ == "__main__":
    main()
