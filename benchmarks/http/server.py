"""`tessera serve` as a subprocess: start on a free port, wait for /healthz, CPU time, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TESSERA = Path(sys.executable).parent / "tessera"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Raised for the benchmark's server process (the defaults, 600 requests a minute per principal,
# would answer 429 within a second); failures limits too, so that nothing throttles a run.
RAISED_LIMITS = {
    "TESSERA_RATE_LIMIT_API": "100000000/minute",
    "TESSERA_RATE_LIMIT_BULK": "100000000/minute",
    "TESSERA_RATE_LIMIT_DECISIONS": "100000000/minute",
    "TESSERA_RATE_LIMIT_IP_FAILURES": "100000/minute",
    "TESSERA_RATE_LIMIT_AUTH_FAILURES": "100000/minute",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base: str, timeout: float = 120.0) -> None:
    """Until `base`/healthz answers 200 (RuntimeError after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {base} did not answer /healthz within {timeout:.0f} s")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, utime + stime, stime) in seconds of a live process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    user, system = int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS
    return int(fields[1]), user + system, system


def tree_cpu(root: int) -> tuple[float, float]:
    """(user + system, system) CPU seconds of a process and its live descendants (uvicorn
    workers)."""
    parents: dict[int, int] = {}
    cpu: dict[int, tuple[float, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)] = stat[0]
                cpu[int(entry.name)] = stat[1:]
    total = system = 0.0
    for pid, (seconds, kernel) in cpu.items():
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            total += seconds
            system += kernel
    return total, system


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and its live descendants (uvicorn workers)."""
    return tree_cpu(root)[0]


class Server:
    """One `tessera serve` process with the environment `env` adds to ours."""

    def __init__(self, env: dict[str, str], *, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tessera.settings"}
        for name in ("TESSERA_DATABASE_URL", "TESSERA_REDIS_URL", "TESSERA_ENV"):
            environment.pop(name, None)
        self.env = {**environment, **RAISED_LIMITS, "TESSERA_LOG_LEVEL": "WARNING", **env}
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile(mode="w+")  # the server's stderr (read on failure)

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(  # noqa: S603 - our own console script
            [
                str(TESSERA),
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            env=self.env,
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"tessera serve exited ({self.process.returncode}):\n{self.stderr()}"
                )
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"tessera serve did not answer /healthz within {timeout:.0f} s")

    def stderr(self) -> str:
        """What the server wrote to stderr so far (its last 4,000 characters)."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return tree_cpu_seconds(self.process.pid)

    def cpu_split(self) -> tuple[float, float]:
        """(user + system, system) CPU seconds of the server so far."""
        assert self.process is not None
        return tree_cpu(self.process.pid)

    def wait_idle(self, *, interval: float = 0.25, timeout: float = 120.0) -> None:
        """Until the requests a finished wrk run left in flight are answered (they would count in
        the next run): /healthz, a sync view, queues behind them in the worker's one thread for
        sync code; then until the server stops using CPU (under 10 % of a core over `interval`)."""
        deadline = time.monotonic() + timeout
        httpx.get(f"{self.base}/healthz", timeout=timeout).raise_for_status()
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(interval)
            now = self.cpu_seconds()
            if now - last < 0.1 * interval:
                return
            last = now

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
