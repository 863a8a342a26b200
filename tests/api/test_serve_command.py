"""`tessera serve`: workers per core with Redis, one without; uvloop and httptools."""

from __future__ import annotations

import logging
import os
from io import StringIO

import pytest
import uvicorn
from django.core.management import call_command
from django.core.management.base import CommandError

from tessera.metrics import MULTIPROC_ENV


@pytest.fixture
def served(monkeypatch):
    """What `tessera serve` hands to uvicorn (nothing is served; collectstatic is skipped)."""
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.setattr("tessera.api.management.commands.serve.call_command", lambda *a, **kw: None)
    monkeypatch.delenv("TESSERA_WORKERS", raising=False)
    # serve names its metrics directory in the environment the workers inherit: undone after
    monkeypatch.setenv(MULTIPROC_ENV, "")
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    return calls


def _serve(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("serve", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_with_redis_one_worker_per_core_on_uvloop_and_httptools(served, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    _serve()
    (call,) = served
    assert call["app"] == "tessera.asgi:application"
    assert call["workers"] == 4
    assert call["loop"] == "uvloop" and call["http"] == "httptools"
    # idle keep-alive connections outlive a client's (or a load balancer's) pause between requests
    assert call["timeout_keep_alive"] == 75


def test_without_redis_one_worker_and_the_reason_is_logged(served, settings, caplog):
    settings.REDIS_URL = None
    with caplog.at_level(logging.INFO, logger="tessera.api.management.commands.serve"):
        _serve()
    assert served[0]["workers"] == 1
    (record,) = caplog.records
    assert "TESSERA_REDIS_URL" in record.getMessage() and record.levelno == logging.INFO


def test_workers_flag_and_environment_override_the_default(served, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    _serve("--workers", "3")
    monkeypatch.setenv("TESSERA_WORKERS", "2")
    _serve()
    _serve("--workers", "1")
    assert [c["workers"] for c in served] == [3, 2, 1]


def test_several_workers_without_redis_are_served_with_a_warning(served, settings, caplog):
    settings.REDIS_URL = None
    with caplog.at_level(logging.INFO, logger="tessera.api.management.commands.serve"):
        _serve("--workers", "2")
    assert served[0]["workers"] == 2
    (record,) = caplog.records
    assert "lockout" in record.getMessage() and record.levelno == logging.WARNING


@pytest.mark.parametrize("count", ["0", "-2"])
def test_nonsense_worker_counts_are_refused(served, count):
    with pytest.raises(CommandError, match="at least 1"):
        _serve("--workers", count)
    assert served == []


def test_a_non_numeric_tessera_workers_is_refused(served, monkeypatch):
    monkeypatch.setenv("TESSERA_WORKERS", "many")
    with pytest.raises(CommandError, match="TESSERA_WORKERS"):
        _serve()
    assert served == []
