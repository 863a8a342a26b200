"""`TesseraServer`: a throwaway real Tessera (its CLI, a temporary SQLite file, a free port)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx


def find_tessera() -> Path | None:
    """The `tessera` executable: $TESSERA_BIN, else on PATH, else next to this interpreter."""
    named = os.environ.get("TESSERA_BIN")
    if named:
        return Path(named) if Path(named).exists() else None
    found = shutil.which("tessera")
    if found:
        return Path(found)
    beside = Path(sys.executable).parent / "tessera"
    return beside if beside.exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TesseraServer:
    """A Tessera of its own for integration tests; `with TesseraServer() as tessera: ...`.

    `start()` runs `tessera migrate` and `tessera init` (one tenant, one administrator) on a
    temporary SQLite file, then `tessera serve` on a free port, and waits until it answers
    (bounded). `stop()` ends it and deletes its files. In between, the helpers set up what a test
    needs through the HTTP API, as the administrator: `create_permission`, `create_role`,
    `create_member` (created with `must_change_password: false`, so they may act at once), and
    `login` / `token` for anyone. Fast password hashing and no rate limits: for tests only.
    """

    def __init__(
        self,
        *,
        tenant: str = "acme",
        admin_email: str = "admin@acme.test",
        password: str | None = None,
        executable: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        found = Path(executable) if executable else find_tessera()
        if found is None:
            raise FileNotFoundError("no `tessera` executable: install Tessera or set TESSERA_BIN")
        self.executable = found
        self.tenant = tenant
        self.admin_email = admin_email
        self.password = password or "Test-" + secrets.token_urlsafe(12)
        self.startup_timeout = startup_timeout
        self.workdir = Path(tempfile.mkdtemp(prefix="tessera-test-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TESSERA_") and k != "DJANGO_SETTINGS_MODULE"
        }
        self.env.update(
            {
                "TESSERA_VAR_DIR": str(self.workdir / "var"),
                "TESSERA_PUBLIC_URL": self.url,
                "TESSERA_LOG_LEVEL": "WARNING",
                "TESSERA_ARGON2_TIME_COST": "1",
                "TESSERA_ARGON2_MEMORY_COST": "8192",
                "TESSERA_RATE_LIMIT_API": "1000000/minute",
                **(env or {}),
            }
        )
        self.log = self.workdir / "tessera.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=15.0)
        self.tenant_id: str | None = None
        self.admin_token: str | None = None

    # -- life cycle ----------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 180) -> str:
        """Run `tessera <args>` against this server's database; its output."""
        done = subprocess.run(  # noqa: S603 - our own executable, fixed arguments
            [str(self.executable), *args],
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

    def start(self) -> TesseraServer:
        self.cli("migrate", "--no-input", "-v", "0")
        self.cli(
            "init",
            "--tenant",
            self.tenant,
            "--admin-email",
            self.admin_email,
            "--admin-password",
            self.password,
        )
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [str(self.executable), "serve", "--port", str(self.port), "--log-level", "warning"],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"tessera serve exited:\n{self._tail()}")
            try:
                if self.http.get("/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"tessera serve did not answer in time:\n{self._tail()}")
            time.sleep(0.1)
        answer = self.login(self.admin_email)
        self.tenant_id = str(answer["tenant"]["id"])
        self.admin_token = answer["access_token"]
        return self

    def stop(self) -> None:
        self.http.close()
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> TesseraServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- the API -------------------------------------------------------------------------------

    def api(
        self, method: str, path: str, json: Any = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """Call the API (as the administrator unless `token` is given); the JSON answer.

        A 4xx/5xx answer raises AssertionError with the problem+json body."""
        token = token or self.admin_token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, path, json=json, headers=headers)
        if response.status_code >= 400:
            raise AssertionError(
                f"{method} {path} answered {response.status_code}: {response.text}"
            )
        return response.json() if response.content else {}

    def login(self, email: str, password: str | None = None, *, tenant: str | None = None) -> dict:
        """`POST /api/v1/auth/login` in this server's tenant; the whole answer."""
        body = {
            "email": email,
            "password": password or self.password,
            "tenant": tenant or self.tenant,
        }
        response = self.http.post("/api/v1/auth/login", json=body)
        if response.status_code != 200:
            raise AssertionError(
                f"login of {email} answered {response.status_code}: {response.text}"
            )
        return response.json()

    def token(self, email: str, password: str | None = None) -> str:
        """A fresh access token for `email` (a new session)."""
        return str(self.login(email, password)["access_token"])

    def create_permission(self, permission: str, description: str = "") -> dict[str, Any]:
        """`resource:action`, e.g. "document:read"."""
        return self.api(
            "POST", "/api/v1/permissions", {"permission": permission, "description": description}
        )

    def create_role(
        self, slug: str, permissions: Iterable[str] = (), *, rules: list[dict] | None = None
    ) -> dict[str, Any]:
        """A role allowing `permissions` on every object (or with the given `rules`)."""
        if rules is None:
            rules = [{"effect": "allow", "permission": p, "scope": "all"} for p in permissions]
        name = slug.replace("-", " ").title()
        return self.api("POST", "/api/v1/roles", {"slug": slug, "name": name, "rules": rules})

    def create_member(
        self, email: str, roles: Iterable[str] = (), *, password: str | None = None
    ) -> dict[str, Any]:
        """A member of this server's tenant who may log in with `password` (default: the
        server's) at once; the created user (its `id` is the tokens' `sub`)."""
        body = {
            "email": email,
            "password": password or self.password,
            "must_change_password": False,
            "roles": list(roles),
        }
        return self.api("POST", "/api/v1/users", body)
