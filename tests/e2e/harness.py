"""Helpers of the browser tests (the fixtures are in conftest.py): see conftest's docstring."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERIOUS = ("serious", "critical")
TESSERA = str(Path(sys.executable).with_name("tessera"))

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: `apt-get install -y chromium` (CI installs it)",
)


def sign_in(page, live_server, user, *, tenant: str | None = None) -> None:
    """A signed-in browser without the sign-in page: the login flow's session, in its cookie."""
    from tessera.authn.flows.login import LoginSuccess, login_password
    from tessera.authn.request_auth import SESSION_COOKIE, session_cookie_value
    from tests.factories import DEFAULT_PASSWORD

    outcome = login_password(
        email=user.email, password=DEFAULT_PASSWORD, tenant=tenant, purpose="web"
    )
    assert isinstance(outcome, LoginSuccess), "sign_in() is for people without a second factor"
    session = outcome.session
    value = session_cookie_value(
        session_id=session.pk,
        user_id=session.user_id,
        tenant_id=session.tenant_id,
        membership_id=session.membership_id,
    )
    host = urlsplit(live_server.url).hostname
    page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": value, "domain": host, "path": "/", "httpOnly": True}]
    )


def assert_no_serious_axe_violations(page) -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # evaluated through the DevTools protocol: the page's CSP (no inline script) still holds
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                'best-practice']},
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    serious = [v for v in result if v["impact"] in SERIOUS]
    assert serious == [], f"axe-core on {page.url}: {serious}"


def screenshot(page, name: str) -> None:
    """docs/screenshots/<name>.png, when asked (`make screenshots` sets TESSERA_SCREENSHOTS=1)."""
    if os.environ.get("TESSERA_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@dataclass(frozen=True)
class RunningTessera:
    base: str
    env: dict[str, str]
    log: Path

    def output(self) -> str:
        """What the server printed so far (its console mail backend prints the mailed links)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def command(self, *args: str) -> str:
        """Run `tessera ARGS` against the same database; its standard output."""
        done = subprocess.run(  # noqa: S603
            [TESSERA, *args], env=self.env, check=True, timeout=120, capture_output=True, text=True
        )
        return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def tessera_serve(
    var_dir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    serve_args: tuple[str, ...] = ("--log-level", "warning"),
    start_seconds: float = 120,
) -> Iterator[RunningTessera]:
    """`tessera migrate`, then `tessera serve` on a fresh SQLite database in `var_dir` — as
    `make run` starts it, with the environment of a fresh shell (no TESSERA_* of the test run,
    plus `extra_env`) and TESSERA_PUBLIC_URL on the chosen port; `serve_args` are added to the
    command line (e.g. `--workers 2`); `start_seconds`: how long it may take to answer /healthz."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TESSERA_", "DJANGO_", "PYTEST_"))
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env["TESSERA_VAR_DIR"] = str(var_dir)
    env["TESSERA_PUBLIC_URL"] = base
    env.update(extra_env or {})
    log_path = Path(var_dir) / "serve.log"
    running = RunningTessera(base=base, env=env, log=log_path)
    running.command("migrate", "-v", "0")
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [TESSERA, "serve", "--port", str(port), *serve_args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + start_seconds  # a loaded CI machine starts slowly
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "tessera serve exited"
            assert time.monotonic() < deadline, "tessera serve did not start"
            time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
