"""Start a real Tessera (its CLI, on a temporary SQLite file and a free port) and the example apps.

Used by test_examples_e2e.py and by benchmarks/bench_client.py. Everything is bounded in time.
The Tessera executable is $TESSERA_BIN, else the repository's .venv/bin/tessera.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

CLIENT_DIR = Path(__file__).resolve().parents[1]
REPO = CLIENT_DIR.parents[1]
EXAMPLES = CLIENT_DIR / "examples"
TESSERA_BIN = Path(os.environ.get("TESSERA_BIN") or REPO / ".venv" / "bin" / "tessera")

#: The API paths (method, path) the examples and the end-to-end test need from the server.
REQUIRED = [
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/users"),
    ("post", "/api/v1/roles"),
    ("post", "/api/v1/permissions"),
    ("post", "/api/v1/authz/check"),
    ("post", "/api/v1/authz/check/batch"),
]
JWKS_PATH = "/.well-known/jwks.json"
PASSWORD = "Correct-Horse-Battery-9"


def _shape(path: str) -> str:
    """A path template with its parameter names erased: /users/{user_id} -> /users/{}."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class TesseraServer:
    """A throwaway Tessera: `migrate`, `init`, then `serve` on a free port."""

    def __init__(self, workdir: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TESSERA_") and k != "DJANGO_SETTINGS_MODULE"
        }
        env.update(
            {
                "TESSERA_VAR_DIR": str(workdir / "var"),
                "TESSERA_PUBLIC_URL": self.url,
                "TESSERA_LOG_LEVEL": "WARNING",
                "TESSERA_ARGON2_TIME_COST": "1",
                "TESSERA_ARGON2_MEMORY_COST": "8192",
                "TESSERA_RATE_LIMIT_API": "1000000/minute",
            }
        )
        env.update(extra_env or {})
        self.env = env
        self.log = workdir / "tessera.log"
        self.process: subprocess.Popen | None = None
        self.http = httpx.Client(base_url=self.url, timeout=15.0)

    @staticmethod
    def available() -> bool:
        return TESSERA_BIN.exists()

    def cli(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [str(TESSERA_BIN), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tessera {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(TESSERA_BIN), "serve", "--port", str(self.port), "--log-level", "warning"],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_http(self.url + "/healthz", self.process, timeout, self.log)

    def stop(self) -> None:
        self.http.close()
        _stop(self.process)

    def missing(self) -> list[str]:
        """What the examples need that this server does not offer yet."""
        missing = []
        try:
            doc = self.http.get("/api/openapi.json").json()
            paths = {_shape(p): set(ops) for p, ops in (doc.get("paths") or {}).items()}
        except (httpx.HTTPError, ValueError, AttributeError):
            paths = {}
            missing.append("GET /api/openapi.json")
        for method, path in REQUIRED:
            if method not in paths.get(_shape(path), set()):
                missing.append(f"{method.upper()} {path}")
        try:
            keys = self.http.get(JWKS_PATH).json().get("keys")
            if not keys:
                missing.append(f"GET {JWKS_PATH} (no keys)")
        except (httpx.HTTPError, ValueError, AttributeError):
            missing.append(f"GET {JWKS_PATH}")
        return missing

    def has(self, method: str, path: str) -> bool:
        try:
            doc = self.http.get("/api/openapi.json").json()
        except (httpx.HTTPError, ValueError):
            return False
        paths = {_shape(p): set(ops) for p, ops in (doc.get("paths") or {}).items()}
        return method.lower() in paths.get(_shape(path), set())

    # -- API calls -------------------------------------------------------------------------------

    def call(
        self, method: str, path: str, token: str | None = None, json: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, path, json=json, headers=headers)

    def expect(
        self, method: str, path: str, token: str | None, json: Any, *statuses: int
    ) -> dict[str, Any]:
        response = self.call(method, path, token, json)
        if response.status_code not in statuses:
            raise AssertionError(
                f"{method} {path} answered {response.status_code}: {response.text[:2000]}"
            )
        return response.json() if response.content else {}

    def login(self, email: str, password: str = PASSWORD, tenant: str | None = None) -> dict:
        body: dict[str, Any] = {"email": email, "password": password}
        if tenant:
            body["tenant"] = tenant
        answer = self.expect("POST", "/api/v1/auth/login", None, body, 200)
        assert not answer.get("password_change_required"), (
            f"{email} must change the password: create users with must_change_password false"
        )
        assert answer.get("access_token"), answer
        return answer


class ExampleApp:
    """One of the example apps under uvicorn (this interpreter), on a free port."""

    SPECS = {
        "fastapi": ("fastapi_app:app", EXAMPLES),
        "django": ("docservice.asgi:application", EXAMPLES / "django_app"),
    }

    def __init__(self, kind: str, workdir: Path, env: dict[str, str]) -> None:
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{kind}-{self.port}.log"
        app, app_dir = self.SPECS[kind]
        self.command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--app-dir",
            str(app_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        self.env = {**os.environ, **env}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> ExampleApp:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        _wait_http(self.url + "/health", self.process, timeout, self.log)
        return self

    def stop(self) -> None:
        _stop(self.process)
