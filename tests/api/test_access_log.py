"""Issue 12, attack 7: credentials in URLs never reach the access log of a real server.

Starts `tessera serve` in a subprocess (temporary TESSERA_VAR_DIR, a spare port), sends HTTP and
WebSocket requests carrying secrets in their query strings, and greps everything it logged.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tessera.api.access_log import REDACTED, redact

SECRETS = {
    "token": "eyJhbGciOiJFZERTQSJ9.SECRET-ACCESS-TOKEN.sig",
    "ticket": "wst_SECRET-TICKET",
    "code": "SECRET-ONE-TIME-CODE",
    "password": "SECRET-PASSWORD",
    "api_key": "tsk_abcd1234_SECRET-KEY",
}


def _spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = _spare_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TESSERA_", "DJANGO_"))}
    env.update({"TESSERA_VAR_DIR": str(tmp_path), "TESSERA_ENV": "development"})
    log = (tmp_path / "server.log").open("w")
    tessera = Path(sys.executable).with_name("tessera")
    subprocess.run(
        [str(tessera), "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=300
    )
    process = subprocess.Popen(
        [str(tessera), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
    yield base, port
    process.terminate()
    process.wait(timeout=20)
    log.close()


def test_attack_credentials_in_query_strings_never_reach_the_access_log(server, tmp_path):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    base, port = server
    query = "&".join(f"{name}={value}" for name, value in SECRETS.items())
    httpx.get(f"{base}/healthz?{query}", timeout=5)
    httpx.get(f"{base}/api/v1/auth/me?{query}&page=2", timeout=5)
    httpx.get(f"{base}/reset-password?token={SECRETS['token']}", timeout=5)
    for name in ("token", "ticket"):
        with connect(f"ws://127.0.0.1:{port}/ws/notifications/?{name}={SECRETS[name]}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd.code == 4401
    time.sleep(0.3)  # let the last lines reach the log
    logged = (tmp_path / "server.log").read_text()
    assert "/healthz?" in logged and "/ws/notifications/?" in logged, logged  # lines were written
    assert "page=2" in logged
    for value in SECRETS.values():
        assert value not in logged, logged
    assert f"token={REDACTED}" in logged and f"ticket={REDACTED}" in logged


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /ws/?token=a.b.c HTTP/1.1", f"GET /ws/?token={REDACTED} HTTP/1.1"),
        (
            "/x?page=2&api_key=tsk_1&ticket=wst_2#f",
            f"/x?page=2&api_key={REDACTED}&ticket={REDACTED}#f",
        ),
        ("/cb?code=abc&state=xyz", f"/cb?code={REDACTED}&state=xyz"),
        ("/b?MFA_TOKEN=zz&x=1", f"/b?MFA_TOKEN={REDACTED}&x=1"),
        ("/a?q=hello", "/a?q=hello"),
        ("no query string", "no query string"),
    ],
)
def test_redaction(line, expected):
    assert redact(line) == expected
