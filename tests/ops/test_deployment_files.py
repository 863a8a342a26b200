"""The deployment files hold together: the Dockerfile copies files that exist and runs the image
as a user without privileges with a health check; the compose file runs migrations once before
several Tessera replicas behind the load balancer; nginx passes WebSockets and the client's
address; the health check script answers as the container's HEALTHCHECK expects."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
NGINX = (REPO / "deploy" / "nginx.conf").read_text()


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_dockerfile_copies_only_files_that_exist_and_are_not_ignored():
    ignored = {
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip()
    }
    sources = []
    for op, args in _instructions():
        if op == "COPY" and not args.startswith("--from"):
            sources += args.split()[:-1]
    assert sources, "no COPY found"
    for source in sources:
        assert (REPO / source).exists(), source
        assert source.split("/")[0] not in ignored, source


def test_the_image_is_multi_stage_non_root_with_a_healthcheck():
    instructions = _instructions()
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) == 2 and all(s.startswith("python:3.11-slim") for s in stages)
    runtime = instructions[[op for op, _ in instructions].index("FROM", 1) :]
    users = [args for op, args in runtime if op == "USER"]
    assert users and not users[-1].startswith(("root", "0"))
    healthcheck = next(args for op, args in runtime if op == "HEALTHCHECK")
    assert "healthcheck.py" in healthcheck
    cmd = next(args for op, args in runtime if op == "CMD")
    assert '"serve"' in cmd and '"0.0.0.0"' in cmd
    assert "--frozen" in DOCKERFILE and "--no-dev" in DOCKERFILE  # uv.lock's versions, no tests


def test_the_build_time_secret_is_only_for_collectstatic():
    # a key written into the Dockerfile must never reach the running image's environment
    uses = [args for op, args in _instructions() if "TESSERA_SECRET_KEY" in args]
    assert len(uses) == 1
    [run] = uses
    assert "collectstatic" in run and "TESSERA_ENV=development" in run
    assert not any(op == "ENV" and "TESSERA_SECRET_KEY" in args for op, args in _instructions())


def test_compose_migrates_once_before_several_replicas_behind_the_load_balancer():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "migrate", "tessera", "lb"} <= set(services)
    migrate, tessera, lb = services["migrate"], services["tessera"], services["lb"]
    assert migrate["command"][0] == "migrate" and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert tessera["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert tessera["depends_on"]["redis"]["condition"] == "service_healthy"
    assert tessera["deploy"]["replicas"] >= 2
    assert "ports" not in tessera  # only the load balancer is reachable
    assert tessera["image"] == migrate["image"]
    env = tessera["environment"]
    assert env["TESSERA_ENV"] == "production"
    assert env["TESSERA_DATABASE_URL"].startswith("postgres://")
    assert env["TESSERA_REDIS_URL"] == "redis://redis:6379/0"
    assert ":?" in env["TESSERA_SECRET_KEY"]  # compose refuses to start without it
    assert lb["depends_on"]["tessera"]["condition"] == "service_healthy"
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in lb["volumes"]


def test_every_tessera_setting_compose_sets_exists():
    settings_source = (REPO / "src" / "tessera" / "settings.py").read_text()
    settings_source += (REPO / "src" / "tessera" / "config.py").read_text()
    for name in COMPOSE["services"]["tessera"]["environment"]:
        assert f'"{name}"' in settings_source, name


def test_nginx_balances_passes_websockets_and_overwrites_forwarded_headers():
    assert re.search(r"upstream tessera \{[^}]*server tessera:8000", NGINX)
    assert "proxy_set_header Upgrade $http_upgrade" in NGINX
    assert "proxy_set_header X-Forwarded-For $remote_addr" in NGINX
    assert "proxy_set_header X-Forwarded-Proto $scheme" in NGINX
    assert COMPOSE["services"]["tessera"]["environment"]["TESSERA_TRUSTED_PROXIES"] == "1"


def _healthcheck(port: int, allowed_hosts: str) -> int:
    env = {
        **os.environ,
        "TESSERA_HEALTHCHECK_PORT": str(port),
        "TESSERA_ALLOWED_HOSTS": allowed_hosts,
        "TESSERA_HEALTHCHECK_TIMEOUT": "30",  # a busy test machine
    }
    script = REPO / "deploy" / "healthcheck.py"
    return subprocess.run([sys.executable, str(script)], env=env, timeout=60).returncode


@pytest.mark.django_db(transaction=True)
def test_the_healthcheck_passes_against_a_live_server_and_fails_without_one(live_server):
    port = int(live_server.url.rsplit(":", 1)[1])
    assert _healthcheck(port, "testserver,.example.com") == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert _healthcheck(closed, "testserver") == 1
