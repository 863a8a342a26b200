"""Issue 18: a real `tessera serve` walked through every credential-bearing path leaves none of its
secrets in the log, writes one JSON object per line, and `/metrics` lists every series.

The walk: a wrong password, a login, a member created, TOTP enrolled and confirmed, a login through
the MFA step (one wrong code first), an API key made and used, decisions (check and batch), a
refresh, a password reset through the mailed link (the file mail backend: mail never reaches the
log), a WebSocket ticket and connection. Then the whole log is searched for every secret the walk
used or received, as typed and URL-encoded.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pyotp
import pytest
from websockets.sync.client import connect

from tests.e2e.harness import tessera_serve

pytestmark = [pytest.mark.e2e]

METRICS_TOKEN = "mtk_" + secrets.token_urlsafe(24)
FAST_HASHING = {"TESSERA_ARGON2_TIME_COST": "1", "TESSERA_ARGON2_MEMORY_COST": "1024"}
SERIES = (
    "tessera_http_request_duration_seconds_bucket",
    "tessera_login_attempts_total",
    "tessera_decisions_total",
    "tessera_decision_duration_seconds_bucket",
    "tessera_active_sessions",
    "tessera_lockouts_total",
    "tessera_policy_cache_hits_total",
    "tessera_policy_cache_misses_total",
    "tessera_audit_events_total",
    "tessera_websocket_connections",
    "tessera_websocket_connects_total",
    "tessera_rate_limit_refusals_total",
)
RESET_LINK = re.compile(r"/reset/\?token=([A-Za-z0-9_-]+)")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _code_after(totp: pyotp.TOTP, used: str) -> str:
    """A current code other than `used` (a code is accepted once)."""
    code = totp.now()
    while code == used:
        time.sleep(0.5)
        code = totp.now()
    return code


def _mailed_reset_token(mail_dir: Path) -> str:
    """The token of the reset link the file mail backend wrote (mail leaves after the answer)."""
    deadline = time.monotonic() + 20
    while True:
        mails = "".join(f.read_text() for f in mail_dir.iterdir()) if mail_dir.exists() else ""
        found = RESET_LINK.search(mails)
        if found:
            return found.group(1)
        assert time.monotonic() < deadline, f"no reset link was mailed: {mails[-500:]}"
        time.sleep(0.2)


def _walk(server, http: httpx.Client) -> list[str]:
    """The walk of the module docstring; the secrets it saw."""
    printed = server.command("bootstrap-demo")
    admin_email = re.search(r"email:\s+(\S+)", printed).group(1)
    admin_password = re.search(r"password:\s+(\S+)", printed).group(1)
    seen = [admin_password]

    wrong = "wrong horse battery " + secrets.token_hex(4)
    seen.append(wrong)
    r = http.post("/api/v1/auth/login", json={"email": admin_email, "password": wrong})
    assert r.status_code == 401, r.text
    r = http.post(
        "/api/v1/auth/login",
        json={"email": admin_email, "password": admin_password, "tenant": "demo"},
    )
    assert r.status_code == 200, r.text
    admin = r.json()
    seen += [admin["access_token"], admin["refresh_token"]]
    admin_auth = _bearer(admin["access_token"])

    member_email = "grace.hopper@demo.example"
    member_password = "quartz meadow lantern " + secrets.token_hex(6)
    seen.append(member_password)
    r = http.post(
        "/api/v1/users",
        headers=admin_auth,
        json={"email": member_email, "password": member_password, "must_change_password": False},
    )
    assert r.status_code == 201, r.text
    member_id = r.json()["id"]
    login = {"email": member_email, "password": member_password, "tenant": "demo"}
    member = http.post("/api/v1/auth/login", json=login).json()
    seen += [member["access_token"], member["refresh_token"]]
    member_auth = _bearer(member["access_token"])
    setup = http.post("/api/v1/auth/mfa/totp/setup", headers=member_auth).json()
    seen += [setup["secret"], setup["otpauth_uri"]]
    totp = pyotp.TOTP(setup["secret"])
    first_code = totp.now()
    r = http.post("/api/v1/auth/mfa/totp/confirm", headers=member_auth, json={"code": first_code})
    assert r.status_code == 200, r.text
    seen += r.json()["backup_codes"]

    pending = http.post("/api/v1/auth/login", json=login).json()
    assert pending.get("mfa_required") is True, pending
    seen.append(pending["mfa_token"])
    wrong_code = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    r = http.post(
        "/api/v1/auth/mfa/verify", json={"mfa_token": pending["mfa_token"], "code": wrong_code}
    )
    assert r.status_code == 401, r.text
    r = http.post(
        "/api/v1/auth/mfa/verify",
        json={"mfa_token": pending["mfa_token"], "code": _code_after(totp, first_code)},
    )
    assert r.status_code == 200, r.text
    seen += [r.json()["access_token"], r.json()["refresh_token"]]

    r = http.post(
        "/api/v1/api-keys", headers=admin_auth, json={"name": "ops", "scopes": ["user:read"]}
    )
    assert r.status_code == 201, r.text
    api_key = r.json()["key"]
    seen.append(api_key)
    assert http.get("/api/v1/users", headers=_bearer(api_key)).status_code == 200
    assert http.get("/api/v1/users", headers={"X-API-Key": api_key}).status_code == 200

    r = http.post("/api/v1/authz/check", headers=admin_auth, json={"action": "user:create"})
    assert r.json() == {"allowed": True}, r.text
    checks = [{"action": "user:read"}, {"subject_id": member_id, "action": "user:delete"}]
    r = http.post("/api/v1/authz/check/batch", headers=admin_auth, json={"checks": checks})
    assert [result["allowed"] for result in r.json()["results"]] == [True, False], r.text

    r = http.post("/api/v1/auth/refresh", json={"refresh_token": admin["refresh_token"]})
    assert r.status_code == 200, r.text
    seen += [r.json()["access_token"], r.json()["refresh_token"]]
    admin_auth = _bearer(r.json()["access_token"])

    assert http.post("/api/v1/auth/password/reset", json={"email": member_email}).status_code == 202
    reset_token = _mailed_reset_token(server.log.parent / "mail")
    new_password = "copper violin harbour " + secrets.token_hex(6)
    seen += [reset_token, new_password]
    r = http.post(
        "/api/v1/auth/password/reset/confirm",
        json={"token": reset_token, "new_password": new_password},
    )
    assert r.status_code == 204, r.text
    # the link as a person opens it: the hosted page with the token in its query string
    http.get(f"/reset/?token={reset_token}")

    ticket = http.post("/api/v1/auth/ws-ticket", headers=admin_auth).json()["ticket"]
    seen.append(ticket)
    ws_url = server.base.replace("http://", "ws://") + f"/ws/notifications/?ticket={ticket}"
    with connect(ws_url) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
    return seen


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    env = {
        **FAST_HASHING,
        "TESSERA_LOG_FORMAT": "json",
        "TESSERA_LOG_LEVEL": "DEBUG",
        "TESSERA_METRICS_TOKEN": METRICS_TOKEN,
        "TESSERA_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    }
    with tessera_serve(
        tmp_path_factory.mktemp("var"), extra_env=env, serve_args=("--log-level", "debug")
    ) as server:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            seen = _walk(server, http)
            scraped = http.get("/metrics", headers=_bearer(METRICS_TOKEN))
            refused = [
                http.get("/metrics"),
                http.get("/metrics", headers=_bearer("mtk_wrong")),
                http.get("/metrics", headers=_bearer(seen[1])),  # an access token is no key
            ]
        time.sleep(0.3)  # the last lines reach the file
        yield server, seen, scraped, refused


def test_no_secret_of_the_walk_reaches_the_log(walked):
    server, seen, _scraped, _refused = walked
    logged = server.output()
    assert "/api/v1/auth/mfa/verify" in logged and "/ws/notifications/" in logged  # lines exist
    for secret in seen:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            assert form not in logged, f"a secret of the walk is in the log: {form[:6]}…"


def test_the_log_is_one_json_object_per_line_with_the_request_facts(walked):
    server, _seen, _scraped, _refused = walked
    lines = [json.loads(line) for line in server.output().splitlines() if line.strip()]
    assert all({"timestamp", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "tessera.http.access"]
    me = [line for line in access if line.get("route") == "/api/v1/users"]
    assert me, "no access line for GET /api/v1/users"
    line = me[-1]
    assert line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert line["principal_type"] == "api_key" and line["principal_id"] and line["tenant"]
    unmatched = [line for line in access if line.get("path", "").startswith("/reset/")]
    assert unmatched and all("[REDACTED]" in line["path"] for line in unmatched)
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]  # no duplicates


def test_metrics_list_every_series_after_the_walk_and_only_for_the_token(walked):
    _server, _seen, scraped, refused = walked
    assert scraped.status_code == 200, scraped.text
    text = scraped.text
    for name in SERIES:
        assert re.search(rf"^{name}(\{{| )", text, re.MULTILINE), f"{name} missing"
    assert 'tessera_login_attempts_total{outcome="success"}' in text
    assert _value(text, 'tessera_login_attempts_total{outcome="mfa_required"}') >= 1
    assert _value(text, 'tessera_login_attempts_total{outcome="mfa_failed"}') >= 1
    assert _value(text, 'tessera_login_attempts_total{outcome="bad_credentials"}') >= 1
    assert _value(text, 'tessera_decisions_total{outcome="allow"}') >= 2
    assert _value(text, 'tessera_decisions_total{outcome="deny"}') >= 1
    assert _value(text, 'tessera_websocket_connects_total{outcome="accepted"}') == 1
    assert (
        _value(text, "tessera_active_sessions") >= 1
    )  # the admin's (the reset ended the member's)
    assert _value(text, 'tessera_audit_events_total{type="LOGIN"}') >= 3
    assert "tenant=" not in text  # no per-tenant series unless a setting asks for them
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)


def _value(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert found, f"{series} missing"
    return float(found.group(1))
