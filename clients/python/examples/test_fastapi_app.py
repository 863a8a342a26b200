"""Tests of the FastAPI example with no Tessera running: FakeTessera mints the tokens and answers
the decisions from the permissions each test gives.

    cd clients/python/examples && pytest test_fastapi_app.py
"""

import httpx
import pytest
import pytest_asyncio

import fastapi_app
from tessera_client.fastapi import get_tessera

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def api(tessera_fake):
    client = tessera_fake.async_client()  # pinned to the fake's tenant, like the app
    fastapi_app.app.dependency_overrides[get_tessera] = lambda: client
    fastapi_app.DOCUMENTS.clear()
    transport = httpx.ASGITransport(app=fastapi_app.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        yield http
    fastapi_app.app.dependency_overrides.clear()
    await client.aclose()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def test_an_editor_creates_and_reads(api, tessera_fake):
    token = tessera_fake.mint("alice", permissions=["document:read", "document:create"])
    created = await api.post("/documents", json={"title": "Q3 plan"}, headers=bearer(token))
    assert created.status_code == 201
    doc = await api.get(f"/documents/{created.json()['id']}", headers=bearer(token))
    assert doc.json()["title"] == "Q3 plan"


async def test_a_reader_may_not_create(api, tessera_fake):
    token = tessera_fake.mint("bob", permissions=["document:read"])
    refused = await api.post("/documents", json={"title": "x"}, headers=bearer(token))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"


async def test_no_token_is_401_without_an_error_code(api):
    refused = await api.get("/documents")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="tessera"'


async def test_another_tenants_token_is_401(api, tessera_fake):
    token = tessera_fake.mint("mallory", tenant_id="another-tenant", permissions=["*:*"])
    refused = await api.get("/documents", headers=bearer(token))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_the_admin_page_reads_the_role_from_the_token(api, tessera_fake):
    admin = await api.get("/admin/stats", headers=bearer(tessera_fake.mint("ann", roles=["admin"])))
    assert admin.status_code == 200
    other = await api.get("/admin/stats", headers=bearer(tessera_fake.mint("bo", roles=[])))
    assert other.status_code == 403


async def test_after_logout_decisions_refuse(api, tessera_fake):
    token = tessera_fake.mint("carol", permissions=["document:read"])
    assert (await api.get("/documents", headers=bearer(token))).status_code == 200
    tessera_fake.logout(token)
    assert (await api.get("/documents", headers=bearer(token))).status_code == 401


async def test_tessera_down_is_503(api, tessera_fake):
    token = tessera_fake.mint("dan", permissions=["document:read"])
    tessera_fake.down = True
    assert (await api.get("/documents", headers=bearer(token))).status_code == 503
