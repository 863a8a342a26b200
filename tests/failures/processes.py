"""Real backing services for the failure tests: a PostgreSQL cluster (`initdb` into a temporary
folder) and a `redis-server`, each on a spare port, that a test may stop, kill, pause and start
again; and `tessera serve` processes on them."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import redis

TESSERA = str(Path(sys.executable).with_name("tessera"))
PASSWORD = "correct horse battery staple 42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    """The newest installed server's program (Debian: /usr/lib/postgresql/<major>/bin)."""
    installed = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: float(Path(path).parts[-3]),
        reverse=True,
    )
    found = next(iter(installed), None) or shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL (CI has it)")
    return found


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: then as the `postgres` OS user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class PostgresCluster:
    """A throw-away cluster: trust authentication, no fsync (a test's data need not survive)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
        self.data = self.root / "data"
        self.port = free_port()
        subprocess.run(  # noqa: S603
            _as_postgres(
                [_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
                + ["--no-sync", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), *args]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        self._ctl("-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open connections are terminated, transactions in flight roll back."""
        self._ctl("-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)

    def query(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()  # type: ignore[arg-type]


class RedisServer:
    """A redis-server without persistence: killed, it returns empty; paused, it keeps its data."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except (OSError, redis.RedisError):
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Served:
    base: str
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(repr=False)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def tessera_env(var_dir: Path, *, database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TESSERA_", "DJANGO_", "PYTEST_"))
    }
    env.update(
        {
            "TESSERA_VAR_DIR": str(var_dir),
            "TESSERA_SECRET_KEY": "failures-" + "s" * 40 + "0123456789abcdefghijklmnop",
            # one deployment: every process issues and accepts the same tokens
            "TESSERA_JWT_ISSUER": "http://tessera.failures.test",
            "TESSERA_DATABASE_URL": database_url,
            "TESSERA_ARGON2_TIME_COST": "2",
            "TESSERA_ARGON2_MEMORY_COST": "19456",
            "TESSERA_RATE_LIMIT_API": "100000/minute",
            "TESSERA_RATE_LIMIT_AUTH_FAILURES": "100000/minute",
            "TESSERA_RATE_LIMIT_IP_FAILURES": "100000/minute",
            # fail fast, retry soon: the test's clock is short
            "TESSERA_REDIS_TIMEOUT": "0.5",
            "TESSERA_REDIS_RETRY_SECONDS": "0.5",
            "TESSERA_DB_CONNECT_TIMEOUT": "2",
            "TESSERA_LOG_LEVEL": "WARNING",
        }
    )
    if redis_url:
        env["TESSERA_REDIS_URL"] = redis_url
    return env


def tessera_command(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603
        [TESSERA, *args], env=env, check=True, timeout=300, capture_output=True, text=True
    )
    return done.stdout


def serve_start(env: dict[str, str], log: Path) -> Served:
    """`tessera serve` on a spare port with this environment (not waited for: `serve_ready`)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**env, "TESSERA_PUBLIC_URL": base}
    with open(log, "w") as out:
        process = subprocess.Popen(  # noqa: S603
            # one process: its in-process fallback counters and its SIGTERM are what is tested
            [TESSERA, "serve", "--port", str(port), "--workers", "1", "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Served(base=base, process=process, log=log, env=env)


def serve_ready(served: Served, *, seconds: float = 300) -> None:
    """Wait for /healthz (a first start collects the static files: slow on a busy machine)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{served.base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert served.process.poll() is None, f"tessera serve exited:\n{served.output()}"
        assert time.monotonic() < deadline, "tessera serve did not start"
        time.sleep(0.2)


def serve_stop(served: Served) -> None:
    process = served.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def tessera_serving(*logs_and_envs: tuple[dict[str, str], Path]) -> Iterator[list[Served]]:
    """`tessera serve` processes started together; stopped (SIGTERM) at the end."""
    running = [serve_start(env, log) for env, log in logs_and_envs]
    try:
        for served in running:
            serve_ready(served)
        yield running
    finally:
        for served in running:
            serve_stop(served)
