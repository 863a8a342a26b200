"""The FastAPI dependencies against the fake Tessera, through the ASGI app in process."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import Depends, FastAPI

from conftest import BASE_URL
from tessera_client import AsyncTesseraClient, DecisionCache, KeySet, Principal
from tessera_client.fastapi import (
    current_principal,
    require_any_permission,
    require_permission,
    require_role,
    setup,
)

CHECK = "/api/v1/authz/check"


def build_app(tessera: AsyncTesseraClient) -> FastAPI:
    app = FastAPI()
    setup(app, tessera)

    @app.get("/open")
    async def open_endpoint():
        return {"ok": True}

    @app.get("/whoami")
    async def whoami(principal: Principal = Depends(current_principal)):
        return {"user": principal.user_id, "tenant": principal.tenant_id}

    @app.get("/documents/{doc_id}")
    async def read(doc_id: str, who: Principal = Depends(require_permission("document", "read"))):
        return {"doc": doc_id, "user": who.user_id}

    @app.get("/documents/{doc_id}/raw")
    async def raw(
        doc_id: str,
        who: Principal = Depends(require_permission("document:read", id_param="doc_id")),
    ):
        return {"doc": doc_id}

    @app.get("/reports")
    async def reports(
        who: Principal = Depends(require_any_permission(["report:read", ("audit_log", "read")])),
    ):
        return {"ok": True}

    @app.get("/admin")
    async def admin(who: Principal = Depends(require_role("admin"))):
        return {"ok": True}

    return app


@pytest.fixture
async def tessera(fake, clock):
    client = AsyncTesseraClient(
        BASE_URL,
        any_tenant=True,
        keys=KeySet(clock=clock),
        transport=httpx.MockTransport(fake.handler),
        backoff=0.001,
    )
    yield client
    await client.aclose()


@pytest.fixture
async def http(tessera):
    transport = httpx.ASGITransport(app=build_app(tessera))
    async with httpx.AsyncClient(transport=transport, base_url="http://app", timeout=10) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


async def test_unprotected_endpoint(http):
    assert (await http.get("/open")).json() == {"ok": True}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}]
)
async def test_no_token_is_401_problem(http, headers, fake):
    response = await http.get("/whoami", headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert fake.requests == []


async def test_current_principal_needs_no_server_call(http, make_token, fake):
    for _ in range(3):
        response = await http.get("/whoami", headers=auth(make_token("alice", "t1")))
        assert response.json() == {"user": "alice", "tenant": "t1"}
    assert fake.api_calls() == [] and len(fake.requests) == 1  # the JWKS, once


async def test_permission_allowed_and_denied(http, make_token, fake):
    fake.permissions["alice"] = {"document:read"}
    response = await http.get("/documents/7", headers=auth(make_token("alice")))
    assert response.status_code == 200 and response.json() == {"doc": "7", "user": "alice"}
    assert json.loads(fake.requests[-1].content) == {
        "action": "document:read",
        "resource": {"type": "document"},
    }
    body = assert_problem(await http.get("/documents/7", headers=auth(make_token("bob"))), 403)
    assert "document:read" in body["detail"]


async def test_id_param_names_the_resource(http, make_token, fake):
    fake.permissions["alice"] = {"document:read"}
    assert (
        await http.get("/documents/d-9/raw", headers=auth(make_token("alice")))
    ).status_code == 200
    assert json.loads(fake.requests[-1].content)["resource"] == {"type": "document", "id": "d-9"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expires_in": -60},
        {"aud": "other-app"},
        {"iss": "https://other-tessera.example"},
        {"typ": "JWT"},
        {"kid": "unknown-kid"},
    ],
)
async def test_bad_tokens_are_401_without_asking_the_server(http, make_token, fake, kwargs):
    fake.permissions["alice"] = {"*:*"}
    await http.get("/whoami", headers=auth(make_token("alice")))  # JWKS now held
    before = len(fake.requests)
    assert_problem(await http.get("/documents/1", headers=auth(make_token("alice", **kwargs))), 401)
    assert len(fake.requests) == before


async def test_tampered_token_is_401_without_asking_the_server(http, make_token, fake):
    fake.permissions["admin"] = {"*:*"}
    token = make_token("alice")
    await http.get("/whoami", headers=auth(token))
    header, payload, signature = token.split(".")
    other = make_token("admin").split(".")[1]
    before = len(fake.requests)
    response = await http.get("/documents/1", headers=auth(f"{header}.{other}.{signature}"))
    assert_problem(response, 401)
    assert len(fake.requests) == before


async def test_server_unreachable_is_503_never_allowed(http, make_token, fake):
    fake.permissions["alice"] = {"*:*"}
    token = make_token("alice")
    assert (await http.get("/documents/1", headers=auth(token))).status_code == 200
    fake.down = True
    for path in ("/documents/1", "/reports", "/admin"):
        body = assert_problem(await http.get(path, headers=auth(token)), 503)
        assert "tessera.test" not in body["detail"]  # no internals leaked


async def test_jwks_unreachable_is_503(http, make_token, fake):
    fake.down = True
    assert_problem(await http.get("/whoami", headers=auth(make_token())), 503)


async def test_rate_limited_by_tessera_is_503_with_retry_after(http, make_token, fake):
    token = make_token("alice")
    await http.get("/whoami", headers=auth(token))
    fake.status_override = 429
    fake.override_body = {"status": 429, "title": "Too many requests"}
    fake.override_headers = {"Retry-After": "2.5"}
    response = await http.get("/documents/1", headers=auth(token))
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "3"


async def test_malformed_request_to_tessera_is_500_not_allowed(http, make_token, fake):
    token = make_token("alice")
    await http.get("/whoami", headers=auth(token))
    fake.status_override = 422
    fake.override_body = {"status": 422, "title": "Invalid"}
    assert_problem(await http.get("/documents/1", headers=auth(token)), 500)


async def test_revoked_session_is_refused_on_the_next_request(http, make_token, fake):
    fake.permissions["alice"] = {"document:read"}
    token = make_token("alice", sid="s-live")
    assert (await http.get("/documents/1", headers=auth(token))).status_code == 200
    fake.revoked_sessions.add("s-live")  # logout on the server
    assert_problem(await http.get("/documents/1", headers=auth(token)), 401)


async def test_require_any_permission(http, make_token, fake):
    fake.permissions["auditor"] = {"audit_log:read"}
    assert (await http.get("/reports", headers=auth(make_token("auditor")))).status_code == 200
    batch = json.loads(fake.requests[-1].content)
    assert [c["action"] for c in batch["checks"]] == ["report:read", "audit_log:read"]
    body = assert_problem(await http.get("/reports", headers=auth(make_token("nobody"))), 403)
    assert "report:read" in body["detail"]


async def test_require_role(http, make_token, fake):
    fake.roles["root"] = ["admin"]
    fake.roles["alice"] = ["member"]
    assert (await http.get("/admin", headers=auth(make_token("root")))).status_code == 200
    assert_problem(await http.get("/admin", headers=auth(make_token("alice"))), 403)
    assert_problem(await http.get("/admin", headers=auth(make_token("root", tid=None))), 403)


async def test_decision_cache_on(fake, make_token, clock):
    cache = DecisionCache(ttl=5, clock=clock)
    client = AsyncTesseraClient(
        BASE_URL, decision_cache=cache, transport=httpx.MockTransport(fake.handler), any_tenant=True
    )
    fake.permissions["alice"] = {"document:read"}
    token = make_token("alice")
    transport = httpx.ASGITransport(app=build_app(client))
    async with httpx.AsyncClient(transport=transport, base_url="http://app", timeout=10) as http:
        for _ in range(5):
            assert (await http.get("/documents/1", headers=auth(token))).status_code == 200
        assert len(fake.paths(CHECK)) == 1
        fake.permissions["alice"] = set()
        client.invalidate(user_id="alice")  # what the permissions.changed subscriber does
        assert_problem(await http.get("/documents/1", headers=auth(token)), 403)
    await client.aclose()


def test_helpers_validate_their_arguments():
    with pytest.raises(ValueError):
        require_permission("document")
    with pytest.raises(ValueError):
        require_any_permission([])
    with pytest.raises(ValueError):
        require_any_permission(["nocolon"])
    with pytest.raises(ValueError):
        require_role()
    with pytest.raises(TypeError):
        setup(FastAPI(), object())  # type: ignore[arg-type]


async def test_missing_setup_is_a_loud_error():
    app = FastAPI()

    @app.get("/x")
    async def x(p: Principal = Depends(current_principal)):
        return {}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        response = await http.get("/x", headers={"Authorization": "Bearer t"})
    assert response.status_code == 500
