"""Two `tessera serve` processes on the same PostgreSQL and Redis (issue 18: the statelessness
claim): a revocation made through one is seen by the other on its next request. Then SIGTERM:
requests in flight finish, new connections are refused, WebSockets close with 1001 and a reason."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.failures.processes import PASSWORD
from tests.failures.world import ADMIN, TENANT, allowed, bearer, login, make_member, tokens

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.xdist_group("failures")]

IN_FLIGHT = 16  # slow logins on the wire when SIGTERM comes: more than the server's 8 threads


def _me(base: str, credential: str) -> int:
    return httpx.get(f"{base}/api/v1/auth/me", headers=bearer(credential), timeout=30).status_code


def _users(base: str, key: str) -> int:
    return httpx.get(f"{base}/api/v1/users", headers=bearer(key), timeout=30).status_code


def test_a_revocation_through_one_process_holds_on_the_other(served, served_b, admin_token):
    a, b = served.base, served_b.base
    user_id, email = make_member(a, admin_token)
    token = tokens(a, email)["access_token"]
    assert [_me(base, token) for base in (a, b, a, b)] == [200] * 4
    assert allowed(b, token) and allowed(a, token)

    # a role taken away on A: B denies on its next request; given back on B: A allows
    removed = httpx.delete(
        f"{a}/api/v1/users/{user_id}/roles/manager", headers=bearer(admin_token), timeout=30
    )
    assert removed.status_code == 204, removed.text
    assert not allowed(b, token)
    given = httpx.post(
        f"{b}/api/v1/users/{user_id}/roles",
        json={"roles": ["manager"]},
        headers=bearer(admin_token),
        timeout=30,
    )
    assert given.status_code == 200, given.text
    assert allowed(a, token)

    # an API key made on B works on A; revoked on A, B refuses it
    made = httpx.post(
        f"{b}/api/v1/api-keys",
        json={"name": "two-processes", "scopes": ["user:read"]},
        headers=bearer(token),
        timeout=30,
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert [_users(base, key) for base in (a, b)] == [200, 200]
    revoked = httpx.delete(
        f"{a}/api/v1/api-keys/{made.json()['id']}", headers=bearer(token), timeout=30
    )
    assert revoked.status_code == 204, revoked.text
    assert _users(b, key) == 401

    # signed out on A: the access token dies on B
    signed_out = httpx.post(f"{a}/api/v1/auth/logout", json={}, headers=bearer(token), timeout=30)
    assert signed_out.status_code == 204, signed_out.text
    assert _me(b, token) == 401

    # a member suspended on A: their session signed in on B dies on B
    second = tokens(b, email)["access_token"]
    assert _me(b, second) == 200
    suspended = httpx.post(
        f"{a}/api/v1/users/{user_id}/deactivate", headers=bearer(admin_token), timeout=30
    )
    assert suspended.status_code == 200, suspended.text
    assert _me(b, second) == 401
    assert login(b, email).status_code in (401, 403)


def _login_in_flight(base: str, email: str, sent: threading.Semaphore, results: list) -> None:
    """A login whose request is on the wire (`sent` released) before its answer is awaited."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    body = json.dumps({"email": email, "password": PASSWORD, "tenant": TENANT})
    try:
        connection.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
    except OSError as exc:
        results.append((type(exc).__name__, time.monotonic()))
        sent.release()
        return
    sent.release()
    try:
        status: int | str = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        status = type(exc).__name__
    results.append((status, time.monotonic()))
    connection.close()


def test_sigterm_finishes_requests_refuses_new_ones_and_closes_sockets(served_b):
    base = served_b.base
    admin = tokens(base, ADMIN)["access_token"]
    _, slow = make_member(base, admin)  # its password hashed at B's production Argon2 cost
    ticket = httpx.post(f"{base}/api/v1/auth/ws-ticket", headers=bearer(admin), timeout=30)
    assert ticket.status_code == 200, ticket.text
    socket_url = base.replace("http://", "ws://") + "/ws/notifications/?ticket="
    with connect(socket_url + ticket.json()["ticket"], open_timeout=30) as ws:
        assert "hello" in ws.recv(timeout=30)

        results: list = []
        sent = threading.Semaphore(0)
        threads = [
            threading.Thread(target=_login_in_flight, args=(base, slow, sent, results))
            for _ in range(IN_FLIGHT)
        ]
        for thread in threads:
            thread.start()
        for _ in threads:
            assert sent.acquire(timeout=60)
        time.sleep(0.5)  # the server has accepted and read them: they are in flight
        served_b.process.send_signal(signal.SIGTERM)
        terminated_at = time.monotonic()

        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
            1001,
            "server shutting down",
        )
        # no longer listening: a new connection is refused while the others finish
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/healthz", timeout=5)
        for thread in threads:
            thread.join(timeout=60)

    # uvicorn shuts down gracefully, then ends by the signal it caught (the default action)
    assert served_b.process.wait(timeout=60) in (0, -signal.SIGTERM)
    statuses = [status for status, _ in results]
    assert statuses == [200] * IN_FLIGHT  # every request in flight finished
    assert any(at > terminated_at for _, at in results), results
