"""Issue 18: who may read /metrics, and what the counters count (in-process, Django's test client).

The real server, its walk and several workers: test_log_secrets.py and test_metrics_workers.py.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from tessera import metrics
from tessera.access.bridge import decisions
from tessera.access.bridge.decisions import BatchItem
from tessera.api.metrics_scrape import exposition
from tessera.authn.flows.login import login_password
from tessera.authn.sessions import session_create
from tessera.engine import Context
from tests.factories import DEFAULT_PASSWORD

TOKEN = "mtk_" + "s" * 32
DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "operations" / "grafana-dashboard.json"


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def closed(settings):
    settings.METRICS_TOKEN = None
    settings.METRICS_ALLOW = ()
    return settings


def test_without_token_or_allowlist_metrics_do_not_exist(client, closed):
    r = client.get("/metrics")
    assert r.status_code == 404
    assert r["Content-Type"] == "application/problem+json"
    assert "tessera_" not in r.content.decode()


def test_a_token_opens_metrics_and_only_the_right_one(client, closed, db):
    closed.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    for header in (None, "Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x", "Basic " + TOKEN):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        r = client.get("/metrics", **extra)
        assert r.status_code == 401, header
        assert r["WWW-Authenticate"].startswith("Bearer")
        assert json.loads(r.content)["code"] == "not_authenticated"


def test_an_allowlisted_network_reads_without_token_and_others_are_forbidden(client, closed, db):
    closed.METRICS_ALLOW = (ipaddress.ip_network("10.1.0.0/16"),)
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    r = client.get("/metrics", REMOTE_ADDR="10.2.0.1")
    assert r.status_code == 403 and r["Content-Type"] == "application/problem+json"
    # a forged X-Forwarded-For is not believed without trusted proxies
    r = client.get("/metrics", REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert r.status_code == 403


def test_writing_to_metrics_is_not_allowed(client, closed):
    closed.METRICS_TOKEN = TOKEN
    r = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert r.status_code == 405 and r["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_requests_are_timed_by_route_template_and_status(client, closed, user):
    closed.METRICS_TOKEN = TOKEN
    labels = {"route": "/api/v1/users/<user_id>", "method": "GET", "status": "401"}
    before = _sample("tessera_http_request_duration_seconds_count", **labels)
    client.get(f"/api/v1/users/{user.pk}")
    assert _sample("tessera_http_request_duration_seconds_count", **labels) == before + 1
    unmatched = {"route": "unmatched", "method": "OTHER", "status": "404"}
    before = _sample("tessera_http_request_duration_seconds_count", **unmatched)
    client.generic("BREW", "/no/such/page/secret-path")
    assert _sample("tessera_http_request_duration_seconds_count", **unmatched) == before + 1
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "secret-path" not in text and "BREW" not in text


@pytest.mark.django_db
def test_login_outcomes_lockouts_and_audit_events_are_counted(
    user, django_capture_on_commit_callbacks
):
    def outcome(name: str) -> float:
        return _sample("tessera_login_attempts_total", outcome=name)

    success, bad = outcome("success"), outcome("bad_credentials")
    logins = _sample("tessera_audit_events_total", type="LOGIN")
    with django_capture_on_commit_callbacks(execute=True):  # audit events count once committed
        login_password(email=user.email, password=DEFAULT_PASSWORD)
    assert outcome("success") == success + 1
    assert _sample("tessera_audit_events_total", type="LOGIN") == logins + 1
    locked, lockouts = outcome("locked"), _sample("tessera_lockouts_total", scope="account")
    for _ in range(30):
        try:
            login_password(email=user.email, password="not the password")
        except Exception as exc:  # noqa: BLE001 - a 401, then 429 once locked
            if getattr(exc, "status", None) == 429:
                break
    assert outcome("bad_credentials") > bad
    assert _sample("tessera_lockouts_total", scope="account") == lockouts + 1
    assert outcome("locked") == locked + 1
    assert _sample("tessera_rate_limit_refusals_total", limit="login_failures") >= 1


@pytest.mark.django_db
def test_decisions_are_counted_by_outcome_and_timed(member_factory, tenant, settings, monkeypatch):
    membership = member_factory(tenant, roles=["viewer"])
    allow, deny = (
        _sample("tessera_decisions_total", outcome="allow"),
        _sample("tessera_decisions_total", outcome="deny"),
    )
    batches = _sample("tessera_decision_duration_seconds_count", kind="batch")
    context = Context(now=timezone.now())
    decisions.check(membership=membership, action="user:read", context=context)
    items = [
        BatchItem(membership, decisions.parse_action(a), context)
        for a in ("user:read", "user:delete", "role:delete")
    ]
    decisions.check_batch(items)
    assert _sample("tessera_decisions_total", outcome="allow") == allow + 2
    assert _sample("tessera_decisions_total", outcome="deny") == deny + 2
    assert _sample("tessera_decision_duration_seconds_count", kind="batch") == batches + 1
    assert _sample("tessera_tenant_decisions_total", tenant=str(tenant.pk), outcome="deny") == 0
    monkeypatch.setenv("TESSERA_METRICS_TENANT_LABELS", "1")
    decisions.check(membership=membership, action="user:delete", context=context)
    assert _sample("tessera_tenant_decisions_total", tenant=str(tenant.pk), outcome="deny") == 1


@pytest.mark.django_db
def test_active_sessions_are_counted_at_scrape_time(user, tenant):
    def live() -> float:
        found = re.search(r"^tessera_active_sessions (\S+)$", exposition().decode(), re.M)
        assert found
        return float(found.group(1))

    before = live()
    session = session_create(user=user, tenant=None, membership=None, ip=None, user_agent="")
    assert live() == before + 1
    session.revoked_at = session.created_at
    session.save(update_fields=["revoked_at"])
    assert live() == before


def test_the_dashboard_charts_only_series_that_exist():
    text = DASHBOARD.read_text()
    charted = set(re.findall(r"tessera_[a-z_]+", text)) - {"tessera_"}
    assert charted
    known = {"tessera_active_sessions"}
    for collector in (
        value for name, value in vars(metrics).items() if name.isupper() and hasattr(value, "_name")
    ):
        base = collector._name
        known |= {base, base + "_total", base + "_bucket", base + "_count", base + "_sum"}
    assert charted <= known, charted - known
    assert all(panel["targets"] for panel in json.loads(text)["panels"])


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("TESSERA_METRICS_TOKEN", "short", "at least 24"),
        ("TESSERA_METRICS_ALLOW", "10.0.0.0/8, not-a-network", "not a network"),
        ("TESSERA_LOG_FORMAT", "xml", "json or plain"),
    ],
)
def test_bad_metrics_and_log_settings_refuse_to_start(tmp_path, name, value, complaint):
    env = {**os.environ, "TESSERA_VAR_DIR": str(tmp_path), name: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import tessera.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "ConfigurationError" in done.stderr
    assert complaint in done.stderr
