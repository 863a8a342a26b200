"""`make soak`: mixed traffic from 16 clients against `tessera serve` on PostgreSQL + Redis.

    TESSERA_DATABASE_URL=postgres://… TESSERA_REDIS_URL=redis://… python -m benchmarks.soak

The server runs in a child process (`tessera serve --workers SOAK_WORKERS`) on the database and
Redis the environment names (the database is created and migrated when missing). The clients are
asyncio tasks in this process: each signs in as its own member and then loops over a weighted mix
of authorization checks, `me`, token refreshes, sign-in/sign-out, and (four of them, tenant
admins) user administration writes; four hold WebSocket listeners that reconnect with a fresh
ticket every few seconds. Every answer outside the expected status is an error.

Per window (SOAK_WINDOW seconds, after SOAK_WARMUP): requests, errors, p50/p99, and the server's
resident memory and open file descriptors (`/proc/<pid>/status` and `/proc/<pid>/fd` of the server
and its worker processes, sampled every second within the window: the median memory, the fewest
descriptors, and what those descriptors are — database and Redis connections, clients'
connections, pipes, event loops, metrics files…, see benchmarks.descriptors).
It fails (exit 1) when there were errors, when the last window's p99 is
above 1.2× the first's by more than SOAK_P99_FLOOR_MS, when resident memory grew by more than
SOAK_RSS_GROWTH_PCT % (and SOAK_RSS_FLOOR_MIB), when open descriptors grew by more than
SOAK_FD_GROWTH, or when the last window held more database or Redis connections than their pools'
bound.
The last line printed is the result as JSON; `--write` stores it in docs/benchmarks.{json,md}.

Open descriptors "flat": a leak is a kind whose floor rises with time — requests served, sockets
opened — and it would pass any fixed limit in a long enough run. Filling a pool is not one: each
worker opens its database connections, one per HTTP thread and one for the WebSocket consumers'
thread, as its thread pool grows (threads start on demand, up to TESSERA_HTTP_THREADS), and its
shared Redis pool (tessera.redis_pool) grows the same way, plus the channel layer's (its receive,
and one per socket joining or leaving its groups at the same moment). That warm-up has a bound
(`pool_bounds`, docs/operations/deployment.md) and ends once the busiest moment so far needed
every thread. So the growth counted from the first window to the last is every kind's change,
except the database and Redis connections opened on the way up to their bound; and connections
past the bound fail the run even when they were there from the first window (a leak that a
garbage collector empties now and then does not rise steadily: the Redis connections of issue
#18 stood at 55 in the first window of a short run, bound 24). The table's `fds` column is the
plain total; the breakdown of the first and last windows is printed below it.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets

from benchmarks.child import ensure_database, percentiles
from benchmarks.descriptors import KINDS, Ports, descriptors_by_kind, resident_mib
from benchmarks.http.server import free_port, wait_ready
from benchmarks.report import REPORT, RESULTS, machine, render

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16  # the first ADMINS of them also administer users
ADMINS = 4
LISTENERS = 4
PASSWORD = "soak-password-correct-horse-battery"


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class Config:
    seconds: float = _env_float("SOAK_SECONDS", 600)
    window: float = _env_float("SOAK_WINDOW", 60)
    warmup: float = _env_float("SOAK_WARMUP", 20)
    workers: int = int(_env_float("SOAK_WORKERS", 2))
    p99_floor_ms: float = _env_float("SOAK_P99_FLOOR_MS", 25)
    rss_growth_pct: float = _env_float("SOAK_RSS_GROWTH_PCT", 10)
    rss_floor_mib: float = _env_float("SOAK_RSS_FLOOR_MIB", 16)
    fd_growth: int = int(_env_float("SOAK_FD_GROWTH", 20))
    # the server's (tessera.settings.HTTP_THREADS): the pools' bounds depend on it
    http_threads: int = int(_env_float("TESSERA_HTTP_THREADS", 8))


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    rss_mib: float = 0.0
    fds: int = 0
    fd_kinds: dict[str, int] = field(default_factory=dict)  # of the fewest-descriptors sample


@dataclass
class Recorder:
    """Latencies and errors by window of the measured time. Answers of the warm-up and after the
    end are not timed; errors are counted whenever they happen."""

    config: Config
    started: float = field(default_factory=time.monotonic)
    windows: list[Window] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    ws_messages: int = 0
    ws_sessions: int = 0
    untimed_errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        count = max(1, int(self.config.seconds // self.config.window))
        self.windows = [Window() for _ in range(count)]

    def _window(self) -> Window | None:
        elapsed = time.monotonic() - self.started - self.config.warmup
        index = int(elapsed // self.config.window) if elapsed >= 0 else -1
        return self.windows[index] if 0 <= index < len(self.windows) else None

    def ok(self, seconds: float) -> None:
        window = self._window()
        if window is not None:
            window.latencies.append(seconds)

    def error(self, what: str) -> None:
        window = self._window()
        if window is None:
            self.untimed_errors += 1
        else:
            window.errors += 1
        kind = what.split(":", 1)[0]
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        if len(self.error_samples) < 20:
            self.error_samples.append(what)


# --- the server process --------------------------------------------------------------------------


def server_env(port_env: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        **port_env,
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_RATE_LIMIT_API": "100000000/minute",
        "TESSERA_RATE_LIMIT_BULK": "1000000/minute",
        "TESSERA_RATE_LIMIT_IP_FAILURES": "1000000/minute",
        "TESSERA_RATE_LIMIT_AUTH_FAILURES": "1000000/minute",
        # the OWASP minimum, as production may run: a login stays realistic without 64 MiB each
        "TESSERA_ARGON2_TIME_COST": os.environ.get("TESSERA_ARGON2_TIME_COST", "2"),
        "TESSERA_ARGON2_MEMORY_COST": os.environ.get("TESSERA_ARGON2_MEMORY_COST", "19456"),
        "TESSERA_LOG_LEVEL": "WARNING",
        "TESSERA_ENV": "development",
    }
    return env


# --- the clients ---------------------------------------------------------------------------------


@dataclass
class Member:
    email: str
    tenant: str
    access: str = ""
    refresh: str = ""


async def _call(
    http: httpx.AsyncClient,
    rec: Recorder,
    method: str,
    path: str,
    expected: int,
    *,
    token: str = "",
    body: dict | None = None,
) -> httpx.Response | None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    began = time.monotonic()
    try:
        response = await http.request(method, path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        rec.error(f"{method} {path}: {type(exc).__name__} {exc}")
        return None
    if response.status_code != expected:
        rec.error(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return None
    rec.ok(time.monotonic() - began)
    return response


async def sign_in(http, rec, member: Member) -> bool:
    body = {"email": member.email, "password": PASSWORD, "tenant": member.tenant}
    response = await _call(http, rec, "POST", "/api/v1/auth/login", 200, body=body)
    if response is None:
        return False
    data = response.json()
    member.access, member.refresh = data["access_token"], data["refresh_token"]
    return True


async def user_admin(http, rec, member: Member, n: int) -> None:
    email = f"soak-{n}-{random.randrange(10**12)}@example.test"
    created = await _call(
        http, rec, "POST", "/api/v1/users", 201, token=member.access, body={"email": email}
    )
    if created is None:
        return
    user_id = created.json()["id"]
    for call in (
        ("PATCH", f"/api/v1/users/{user_id}", 200, {"department": "Soak"}),
        ("POST", f"/api/v1/users/{user_id}/roles", 200, {"roles": ["viewer"]}),
        ("DELETE", f"/api/v1/users/{user_id}", 204, None),
    ):
        method, path, expected, body = call
        if await _call(http, rec, method, path, expected, token=member.access, body=body) is None:
            return


async def client(base: str, rec: Recorder, member: Member, n: int, until: float) -> None:
    admin = n < ADMINS
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as http:
        while not await sign_in(http, rec, member):
            if time.monotonic() > until:
                return
            await asyncio.sleep(1)
        check = {"action": "user:read", "resource": {"type": "user"}}
        while time.monotonic() < until:
            roll = random.random()
            if roll < 0.55:
                await _call(
                    http, rec, "POST", "/api/v1/authz/check", 200, token=member.access, body=check
                )
            elif roll < 0.80:
                await _call(http, rec, "GET", "/api/v1/auth/me", 200, token=member.access)
            elif roll < 0.90:
                answer = await _call(
                    http,
                    rec,
                    "POST",
                    "/api/v1/auth/refresh",
                    200,
                    body={"refresh_token": member.refresh},
                )
                if answer is not None:
                    member.access = answer.json()["access_token"]
                    member.refresh = answer.json()["refresh_token"]
            elif roll < 0.93:
                # sign out and in again: sessions come and go, none piles up
                await _call(
                    http, rec, "POST", "/api/v1/auth/logout", 204, token=member.access, body={}
                )
                await sign_in(http, rec, member)
            elif admin:
                await user_admin(http, rec, member, n)
            else:
                await _call(
                    http, rec, "POST", "/api/v1/authz/check", 200, token=member.access, body=check
                )


async def listener(base: str, rec: Recorder, member: Member, until: float) -> None:
    """A WebSocket listener: a ticket, a socket held for a few seconds, again."""
    ws_base = base.replace("http://", "ws://", 1)
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as http:
        while not await sign_in(http, rec, member):
            if time.monotonic() > until:
                return
            await asyncio.sleep(1)
        signed_in = time.monotonic()
        while time.monotonic() < until:
            if time.monotonic() - signed_in > 300:  # well within the access token's lifetime
                await sign_in(http, rec, member)
                signed_in = time.monotonic()
            answer = await _call(
                http, rec, "POST", "/api/v1/auth/ws-ticket", 200, token=member.access, body={}
            )
            if answer is None:
                await asyncio.sleep(0.5)
                continue
            url = f"{ws_base}/ws/notifications/?ticket={answer.json()['ticket']}"
            hold = min(random.uniform(3, 8), max(0.0, until - time.monotonic()))
            try:
                async with websockets.connect(url, open_timeout=10, close_timeout=5) as socket:
                    rec.ws_sessions += 1
                    deadline = time.monotonic() + hold
                    while (left := deadline - time.monotonic()) > 0:
                        try:
                            await asyncio.wait_for(socket.recv(), timeout=left)
                            rec.ws_messages += 1
                        except TimeoutError:
                            break
            except (OSError, websockets.WebSocketException, TimeoutError) as exc:
                rec.error(f"WS: {type(exc).__name__} {exc}")


async def sampler(pid: int, ports: Ports, rec: Recorder) -> None:
    """Resident memory and descriptors, once a second within each window (not in the warm-up):
    per window the median memory and the fewest descriptors, with their kinds (sockets of
    requests in flight come and go; a leak raises the floor)."""
    measured_from = rec.started + rec.config.warmup
    await asyncio.sleep(max(0.0, measured_from - time.monotonic()))
    for index, window in enumerate(rec.windows):
        end = measured_from + (index + 1) * rec.config.window
        rss: list[float] = []
        floor: Counter[str] | None = None
        while True:
            kinds = descriptors_by_kind(pid, ports)
            if kinds:
                rss.append(resident_mib(pid))
                if floor is None or kinds.total() < floor.total():
                    floor = kinds
            if time.monotonic() >= end - 0.5:
                break
            await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic() - 0.5)))
        if rss and floor is not None:
            window.rss_mib, window.fds = statistics.median(rss), floor.total()
            window.fd_kinds = {kind: floor[kind] for kind in KINDS if floor[kind]}


async def drive(
    base: str, pid: int, ports: Ports, members: list[Member], config: Config
) -> Recorder:
    rec = Recorder(config)
    until = rec.started + config.warmup + config.seconds
    tasks = [client(base, rec, m, n, until) for n, m in enumerate(members[:CLIENTS])]
    tasks += [listener(base, rec, m, until) for m in members[CLIENTS : CLIENTS + LISTENERS]]
    await asyncio.gather(*tasks, sampler(pid, ports, rec))
    return rec


# --- verdict -------------------------------------------------------------------------------------


def pool_bounds(workers: int, http_threads: int, sockets: int) -> dict[str, int]:
    """Connections each kind of pool may hold once warm, over all workers: per worker one to the
    database per HTTP thread and one for the WebSocket consumers' thread; as many in the shared
    Redis pool, and the channel layer's receive; and in the channel layers, one per WebSocket
    joining or leaving its groups at the same moment (docs/operations/deployment.md)."""
    return {
        "postgres": workers * (http_threads + 1),
        "redis": workers * (http_threads + 2) + sockets,
    }


def descriptor_growth(first: dict[str, int], last: dict[str, int], bounds: dict[str, int]) -> int:
    """Descriptors the last window holds over the first, less the pools filling up to their
    bounds (warm-up, not growth)."""
    growth = 0
    for kind in set(first) | set(last):
        before, after = first.get(kind, 0), last.get(kind, 0)
        filling = max(0, min(after, bounds[kind]) - before) if kind in bounds else 0
        growth += after - before - filling
    return growth


def summarise(rec: Recorder, config: Config) -> tuple[dict, list[str]]:
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for index, window in enumerate(rec.windows):
        if not window.latencies:
            failures.append(f"window {index + 1} had no answers")
            continue
        p50, p99 = percentiles(window.latencies)
        rows.append(
            {
                "window": index + 1,
                "requests": len(window.latencies) + window.errors,
                "errors": window.errors,
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "rss_mib": round(window.rss_mib, 1),
                "fds": window.fds,
                "fd_kinds": window.fd_kinds,
            }
        )
    errors = sum(w.errors for w in rec.windows) + rec.untimed_errors
    if errors:
        failures.append(f"{errors} errors {rec.error_kinds}, e.g. {rec.error_samples[:3]}")
    bounds = pool_bounds(config.workers, config.http_threads, LISTENERS)
    fd_growth = 0
    if len(rows) < 2:
        failures.append("fewer than two measured windows")
    else:
        first, last = rows[0], rows[-1]
        if last["p99_ms"] > 1.2 * first["p99_ms"] and (
            last["p99_ms"] - first["p99_ms"] > config.p99_floor_ms
        ):
            failures.append(f"p99 went from {first['p99_ms']} ms to {last['p99_ms']} ms")
        # descriptors from the first measured window, less the pools filling (module docstring)
        fd_growth = descriptor_growth(first["fd_kinds"], last["fd_kinds"], bounds)
        if fd_growth > config.fd_growth:
            failures.append(
                f"open descriptors grew {first['fds']} → {last['fds']} ({fd_growth} beyond the "
                f"pools' warm-up): {kinds_change(first['fd_kinds'], last['fd_kinds'])}"
            )
        for kind, bound in bounds.items():
            if last["fd_kinds"].get(kind, 0) > bound:
                failures.append(
                    f"{last['fd_kinds'][kind]} {kind} connections in the last window, over their "
                    f"pools' bound {bound}"
                )
        # memory from the second window on: the first still sees the workers' caches fill
        first = rows[1] if len(rows) > 2 else first
        growth = last["rss_mib"] - first["rss_mib"]
        if growth > max(first["rss_mib"] * config.rss_growth_pct / 100, config.rss_floor_mib):
            failures.append(f"resident memory grew {first['rss_mib']} → {last['rss_mib']} MiB")
    total = sum(r["requests"] for r in rows)
    result = {
        "seconds": config.seconds,
        "window_seconds": config.window,
        "clients": CLIENTS,
        "listeners": LISTENERS,
        "workers": config.workers,
        "requests": total,
        "requests_per_second": round(total / config.seconds, 1) if config.seconds else 0,
        "errors": errors,
        "error_kinds": rec.error_kinds,
        "ws_sessions": rec.ws_sessions,
        "ws_messages": rec.ws_messages,
        "load_average": os.getloadavg()[0],
        "http_threads": config.http_threads,
        "fd_pool_bounds": bounds,
        "fd_growth": fd_growth,
        "windows": rows,
        "failures": failures,
    }
    return result, failures


def kinds_change(first: dict[str, int], last: dict[str, int]) -> str:
    """ "postgres 14 → 15, redis 16 → 17, …" in the order of benchmarks.descriptors.KINDS."""
    return ", ".join(
        f"{kind} {first.get(kind, 0)} → {last.get(kind, 0)}"
        for kind in KINDS
        if first.get(kind) or last.get(kind)
    )


def print_table(result: dict) -> None:
    print(
        f"{'window':>6} {'requests':>9} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'RSS MiB':>8} {'fds':>5}"
    )
    for row in result["windows"]:
        print(
            f"{row['window']:>6} {row['requests']:>9} {row['errors']:>6} {row['p50_ms']:>8} "
            f"{row['p99_ms']:>8} {row['rss_mib']:>8} {row['fds']:>5}"
        )
    if result["windows"]:
        first, last = result["windows"][0], result["windows"][-1]
        bounds = result["fd_pool_bounds"]
        change = kinds_change(first["fd_kinds"], last["fd_kinds"])
        print(
            f"open descriptors, first → last window: {change}"
            f" (pools' bounds: postgres {bounds['postgres']}, redis {bounds['redis']}; "
            f"growth beyond them {result['fd_growth']})"
        )
    print(
        f"{result['requests']} requests ({result['requests_per_second']}/s), "
        f"{result['errors']} errors, {result['ws_sessions']} WebSocket sessions, "
        f"load average {result['load_average']:.2f}"
    )
    for failure in result["failures"]:
        print(f"FAIL: {failure}")


def write_docs(result: dict) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    first, last = result["windows"][0], result["windows"][-1]
    results["soak"] = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "seconds": result["seconds"],
        "notes": (
            f"`make soak`: {result['clients']} clients (logins and sign-outs, checks, me, "
            f"refreshes, user administration writes) and {result['listeners']} WebSocket "
            f"listeners against `tessera serve --workers {result['workers']}` on PostgreSQL + "
            f"Redis on the same machine; windows of {result['window_seconds']:.0f} s. "
            "Load average (1 min) at the end: "
            f"{result['load_average']:.2f}. "
            + (f"FAILED: {'; '.join(result['failures'])}. " if result["failures"] else "")
            + "Open descriptors by kind, first → last window: "
            + kinds_change(first["fd_kinds"], last["fd_kinds"])
            + f" (the pools' bounds: postgres {result['fd_pool_bounds']['postgres']}, redis "
            f"{result['fd_pool_bounds']['redis']}; growth beyond them {result['fd_growth']}). "
            + "Per window: "
            + "; ".join(
                f"{r['window']}: p99 {r['p99_ms']} ms, RSS {r['rss_mib']} MiB, {r['fds']} fds"
                for r in result["windows"]
            )
        ),
        "numbers": {
            "requests": result["requests"],
            "requests_per_second": result["requests_per_second"],
            "errors": result["errors"],
            "first_window_p99_ms": first["p99_ms"],
            "last_window_p99_ms": last["p99_ms"],
            "first_window_rss_mib": first["rss_mib"],
            "last_window_rss_mib": last["rss_mib"],
            "first_window_fds": first["fds"],
            "last_window_fds": last["fds"],
            "fd_growth_beyond_pools": result["fd_growth"],
            "websocket_sessions": result["ws_sessions"],
            "load_average_1min": round(result["load_average"], 2),
        },
    }
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    REPORT.write_text(render(results))
    print(f"wrote {REPORT.relative_to(ROOT)}")


# --- main ----------------------------------------------------------------------------------------


def tessera(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "tessera.cli", *args],
        env=env,
        cwd=str(ROOT),
        check=True,
        capture_output=True,
        text=True,
    )


def main(argv: list[str]) -> int:
    database = os.environ.get("TESSERA_DATABASE_URL", "")
    redis = os.environ.get("TESSERA_REDIS_URL", "")
    if not database.startswith("postgres") or not redis.startswith("redis"):
        print("set TESSERA_DATABASE_URL (PostgreSQL) and TESSERA_REDIS_URL", file=sys.stderr)
        return 2
    config = Config()
    ensure_database(database)
    env = server_env({"TESSERA_REDIS_PREFIX": f"soak-{random.randrange(10**9)}"})
    if "TESSERA_VAR_DIR" not in env:
        env["TESSERA_VAR_DIR"] = str(ROOT / "var" / "soak")
    tessera(["migrate", "--no-input", "-v", "0"], env)
    seeded = tessera(["shell", "-c", "from benchmarks.soak_seed import main; main()"], env)
    tenant, emails = json.loads(seeded.stdout.strip().splitlines()[-1])
    members = [Member(email=e, tenant=tenant) for e in emails]

    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "tessera.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(config.workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
        stderr=None,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, timeout=300)
        ports = Ports(
            server=port,
            postgres=urlsplit(database).port or 5432,
            redis=urlsplit(redis).port or 6379,
        )
        rec = asyncio.run(drive(base, server.pid, ports, members, config))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    result, failures = summarise(rec, config)
    print_table(result)
    if "--write" in argv and result["windows"]:
        write_docs(result)
    print(json.dumps(result))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
