"""A real `tessera serve` process on a fresh SQLite database, as `make run` starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

TESSERA = str(Path(sys.executable).with_name("tessera"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def tessera_serve(
    var_dir: Path, *, env: dict[str, str] | None = None, setup: Sequence[Sequence[str]] = ()
) -> Iterator[str]:
    """Migrate, run each `setup` command (`tessera <args>`), serve; yield the base URL; stop."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TESSERA_", "DJANGO_", "PYTEST_"))
    }
    environment["TESSERA_VAR_DIR"] = str(var_dir)
    environment.update(env or {})
    run = {"env": environment, "check": True, "timeout": 120}
    subprocess.run([TESSERA, "migrate", "-v", "0"], **run)  # noqa: S603
    for args in setup:
        subprocess.run([TESSERA, *args], capture_output=True, **run)  # noqa: S603
    port = _free_port()
    log = open(var_dir / "serve.log", "w")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [TESSERA, "serve", "--port", str(port), "--log-level", "warning"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "tessera serve exited"
            assert time.monotonic() < deadline, "tessera serve did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
