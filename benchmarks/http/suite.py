"""One database's run of the HTTP suite: prepare (seed) it, serve it, drive every row with wrk.

PostgreSQL + Redis: TESSERA_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/tessera_bench,
created when missing) and TESSERA_REDIS_URL (default redis://127.0.0.1:6379/0; keys under the
prefix `tessera-bench`). SQLite: var/bench-http/tessera.sqlite3, no Redis (the laptop setup).
Both are seeded once and reused (benchmarks.http.prepare).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.child import ensure_database
from benchmarks.http.layers import Sampler, Share, shares
from benchmarks.http.prepare import ROTATORS, rotator_email
from benchmarks.http.rows import Row
from benchmarks.http.server import ROOT, Server
from benchmarks.http.wrk import WrkResult, run_wrk

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tessera_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
VAR_DIR = Path(os.environ.get("TESSERA_BENCH_VAR_DIR") or ROOT / "var" / "bench-http")


class SuiteError(RuntimeError):
    """A row could not be measured (a wrong answer, a failed sign-in)."""


@dataclass(frozen=True)
class Profile:
    """A second run of a row with py-spy attached: the server CPU per layer."""

    requests: int
    cpu_ms: float  # measured server CPU per request over the profiled run
    system_ms: float  # of which the kernel's (system time)
    python_ms: float  # GIL-holding samples / rate, per request
    layers: list[Share]


@dataclass(frozen=True)
class RowResult:
    row: Row
    db: str
    wrk: WrkResult
    server_cpu_seconds: float
    profile: Profile | None = None

    @property
    def numbers(self) -> dict[str, float]:
        served = max(self.wrk.requests, 1)
        return {
            "req_per_s": self.wrk.req_per_s,
            "p50_ms": self.wrk.p50_ms,
            "p99_ms": self.wrk.p99_ms,
            "cpu_ms": self.server_cpu_seconds * 1000 / served,
            "generator_cpu_ms": self.wrk.generator_cpu_seconds * 1000 / served,
            "generator_cores": self.wrk.generator_cpu_seconds / self.wrk.seconds,
            "server_cores": self.server_cpu_seconds / self.wrk.seconds,
            "errors": float(self.wrk.errors + self.wrk.bad_answers),
            "requests": float(self.wrk.requests),
        }

    @property
    def met(self) -> bool:
        numbers = self.numbers
        return (
            self.wrk.requests > 0
            and not numbers["errors"]
            and all(t.met(numbers) for t in self.row.targets)
        )


def database_env(db: str) -> dict[str, str]:
    """The environment that points prepare and the server at the benchmark database."""
    env = {"TESSERA_VAR_DIR": str(VAR_DIR)}
    if db == "postgres":
        url = os.environ.get("TESSERA_DATABASE_URL") or DEFAULT_DATABASE_URL
        ensure_database(url)
        env["TESSERA_DATABASE_URL"] = url
        env["TESSERA_REDIS_URL"] = os.environ.get("TESSERA_REDIS_URL") or DEFAULT_REDIS_URL
        env["TESSERA_REDIS_PREFIX"] = "tessera-bench"
    elif db != "sqlite":
        raise ValueError(f"--db is sqlite or postgres, not {db!r}")
    return env


def prepare(env: dict[str, str]) -> dict:
    """Migrate and (once) seed the database in a child process; the facts it prints."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tessera.settings", **env}
    if "TESSERA_DATABASE_URL" not in env:
        environment.pop("TESSERA_DATABASE_URL", None)
        environment.pop("TESSERA_REDIS_URL", None)
    environment.pop("TESSERA_ENV", None)
    environment.setdefault("TESSERA_LOG_LEVEL", "WARNING")
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "benchmarks.http.prepare"],
        env=environment,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SuiteError(f"preparing the database failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def api_login(client: httpx.Client, email: str, facts: dict) -> dict:
    answer = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": facts["password"], "tenant": facts["tenant"]},
    )
    if answer.status_code != 200 or "access_token" not in answer.json():
        raise SuiteError(f"login of {email} failed: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def admin_login(base: str, facts: dict) -> str:
    """Sign in through /admin/login/ as a browser does; the Cookie header of that session."""
    with httpx.Client(base_url=base, timeout=60) as browser:
        form = browser.get("/admin/login/")
        csrf = browser.cookies.get("csrftoken")
        if form.status_code != 200 or not csrf:
            raise SuiteError(f"/admin/login/ answered {form.status_code} without a CSRF cookie")
        signed_in = browser.post(
            "/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": csrf,
                "username": facts["admin_email"],
                "password": facts["password"],
                "next": "/admin/",
            },
            headers={"Referer": f"{base}/admin/login/"},
        )
        if signed_in.status_code != 302 or "sessionid" not in browser.cookies:
            raise SuiteError(f"admin sign-in failed: {signed_in.status_code}")
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


class Suite:
    """The rows of one database against one running server."""

    def __init__(self, server: Server, facts: dict, scratch: Path) -> None:
        self.server = server
        self.facts = facts
        self.scratch = scratch
        self.client = httpx.Client(base_url=server.base, timeout=60)
        bearer = api_login(self.client, facts["manager_email"], facts)["access_token"]
        self.bearer = {"Authorization": f"Bearer {bearer}"}
        self._admin_cookie: str | None = None

    def headers(self, row: Row) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if row.method == "POST" else {}
        if row.auth == "bearer":
            headers.update(self.bearer)
        elif row.auth == "admin":
            if self._admin_cookie is None:
                self._admin_cookie = admin_login(self.server.base, self.facts)
            headers["Cookie"] = self._admin_cookie
        return headers

    def refresh_tokens(self) -> Path:
        """A file of the refresh-token chains' heads the seed started (one per connection, and a
        few to spare)."""
        path = self.scratch / "refresh-tokens"
        path.write_text("\n".join(self.facts["refresh_tokens"]) + "\n")
        return path

    def probe(self, row: Row, headers: dict[str, str], body: bytes | None) -> None:
        if row.probe is None:
            return
        answer = self.client.request(row.method, row.path, headers=headers, content=body)
        if answer.status_code != row.probe.status or not row.probe.holds(answer.text):
            raise SuiteError(
                f"{row.method} {row.path}: expected {row.probe.status} with {row.probe.says}, "
                f"got {answer.status_code}: {answer.text[:300]}"
            )

    def measure(
        self, row: Row, *, db: str, seconds: float, warmup: float, profile: float = 0
    ) -> RowResult:
        headers = self.headers(row)
        body = row.body(self.facts) if row.body else None
        body_file = None
        if body is not None:
            body_file = self.scratch / f"{row.key}.body"
            body_file.write_bytes(body)
        self.probe(row, headers, body)
        options = {
            "connections": row.connections,
            "method": row.method,
            "headers": headers,
            "body_file": body_file,
        }
        url = self.server.base + row.path
        if row.auth == "refresh":
            if row.connections > len(self.facts["refresh_tokens"]):
                raise SuiteError(f"{row.key}: more connections than refresh chains in the seed")
            options["script"] = "refresh.lua"
            options["tokens_file"] = self.refresh_tokens()
        if row.warmup and warmup > 0:
            run_wrk(url, seconds=warmup, **options)
        self.server.wait_idle()
        before = self.server.cpu_seconds()
        result = run_wrk(url, seconds=max(seconds, row.min_seconds), **options)
        cpu = self.server.cpu_seconds() - before
        self.server.wait_idle()
        layers = self.profile(row, url, options, seconds=profile) if profile > 0 else None
        return RowResult(row, db, result, cpu, layers)

    def fresh_chains(self) -> Path:
        """New refresh-token chains (the measured run spent the seed's): a sign-in per rotator."""
        path = self.scratch / "refresh-tokens-profile"
        tokens = [
            api_login(self.client, rotator_email(n), self.facts)["refresh_token"]
            for n in range(ROTATORS)
        ]
        path.write_text("\n".join(tokens) + "\n")
        return path

    def profile(self, row: Row, url: str, options: dict, *, seconds: float) -> Profile:
        """The same load again, with py-spy sampling the server (numbers apart from the row's)."""
        assert self.server.process is not None
        if row.auth == "refresh":
            options = {**options, "tokens_file": self.fresh_chains()}
        output = self.scratch / "profile.raw"
        cpu_before, system_before = self.server.cpu_split()
        sampler = Sampler(self.server.process.pid, seconds + 1, output)
        result = run_wrk(url, seconds=seconds, **options)
        counts = sampler.counts()
        cpu_after, system_after = self.server.cpu_split()
        self.server.wait_idle()
        served = max(result.requests, 1)
        cpu_ms = (cpu_after - cpu_before) * 1000 / served
        system_ms = (system_after - system_before) * 1000 / served
        python_ms = sum(counts.values()) / Sampler.RATE * 1000 / served
        layers = shares(
            counts, rate=Sampler.RATE, requests=served, cpu_ms=cpu_ms, system_ms=system_ms
        )
        return Profile(served, cpu_ms, system_ms, python_ms, layers)

    def close(self) -> None:
        self.client.close()


def run_database(
    db: str, rows: list[Row], *, seconds: float, warmup: float, profile: float = 0, log=print
) -> tuple[dict, list[RowResult]]:
    """(the prepared facts, a result per row) for one database."""
    env = database_env(db)
    log(f"[{db}] preparing the database (the first run seeds it)…")
    facts = prepare(env)
    if facts["seed_seconds"] is not None:
        log(f"[{db}] seeded {facts['members']:,} members in {facts['seed_seconds']} s")
    results = []
    with Server(env) as server, tempfile.TemporaryDirectory() as scratch:
        suite = Suite(server, facts, Path(scratch))
        try:
            for row in rows:
                log(f"[{db}] {row.workload}")
                results.append(
                    suite.measure(row, db=db, seconds=seconds, warmup=warmup, profile=profile)
                )
        finally:
            suite.close()
    return facts, results
