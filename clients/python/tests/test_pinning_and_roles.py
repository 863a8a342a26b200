"""Issue 20: tenant pinning is never a silent default, roles come from the token, and 401
challenges follow RFC 6750 (FastAPI side; the Django side is in test_django.py)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Depends, FastAPI

from conftest import BASE_URL, ISSUER
from tessera_client import (
    AsyncTesseraClient,
    KeySet,
    Principal,
    TesseraClient,
    TesseraUnauthenticated,
    TokenVerifier,
)
from tessera_client.fastapi import current_principal, require_role, setup


@pytest.mark.parametrize("make", [TesseraClient, AsyncTesseraClient])
def test_a_client_without_tenant_ids_or_any_tenant_is_refused(make):
    with pytest.raises(ValueError) as refused:
        make(BASE_URL)
    assert "tenant_ids=" in str(refused.value) and "any_tenant=True" in str(refused.value)
    with pytest.raises(ValueError):
        TokenVerifier(issuer=ISSUER)


def test_ambiguous_or_empty_pins_are_refused():
    with pytest.raises(ValueError, match="not both"):
        TokenVerifier(issuer=ISSUER, tenant_ids=["t1"], any_tenant=True)
    with pytest.raises(ValueError, match="empty"):
        TokenVerifier(issuer=ISSUER, tenant_ids=[])
    with pytest.raises(TypeError):
        TokenVerifier(issuer=ISSUER, tenant_ids="t1")


def test_pinned_refuses_other_tenants_and_any_tenant_names_the_tenant(fake, make_token):
    transport = httpx.MockTransport(fake.handler)
    with TesseraClient(BASE_URL, tenant_ids=["t1"], transport=transport) as pinned:
        assert pinned.verify_token(make_token("alice", "t1")).tenant_id == "t1"
        with pytest.raises(TesseraUnauthenticated, match="another tenant"):
            pinned.verify_token(make_token("alice", "t2"))
    with TesseraClient(BASE_URL, any_tenant=True, transport=transport) as every:
        assert every.verify_token(make_token("alice", "t2")).tenant_id == "t2"


def test_principal_roles_come_from_the_claim(fake, make_token, client):
    assert client.verify_token(make_token(roles=["admin", "editor"])).roles == ("admin", "editor")
    assert client.verify_token(make_token(roles=[])).roles == ()
    assert client.verify_token(make_token()).roles is None  # an older token: no claim
    assert client.verify_token(make_token(roles="admin")).roles is None  # malformed: ignored
    principal = client.verify_token(make_token(roles=["admin"]))
    assert principal.has_role("owner", "admin") and not principal.has_role("owner")


def build_app(tessera: AsyncTesseraClient) -> FastAPI:
    app = FastAPI()
    setup(app, tessera)

    @app.get("/whoami")
    async def whoami(principal: Principal = Depends(current_principal)):
        return {"user": principal.user_id}

    @app.get("/admin")
    async def admin(who: Principal = Depends(require_role("admin"))):
        return {"ok": True}

    @app.get("/admin-live")
    async def admin_live(who: Principal = Depends(require_role("admin", live=True))):
        return {"ok": True}

    return app


@pytest.fixture
async def http(fake, clock):
    tessera = AsyncTesseraClient(
        BASE_URL,
        any_tenant=True,
        keys=KeySet(clock=clock),
        transport=httpx.MockTransport(fake.handler),
    )
    transport = httpx.ASGITransport(app=build_app(tessera))
    async with httpx.AsyncClient(transport=transport, base_url="http://app", timeout=10) as c:
        yield c
    await tessera.aclose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_require_role_reads_the_claim_with_no_round_trip(http, fake, make_token):
    assert (await http.get("/admin", headers=auth(make_token("root", roles=["admin"])))).is_success
    refused = await http.get("/admin", headers=auth(make_token("bob", roles=["member"])))
    assert refused.status_code == 403
    refused = await http.get("/admin", headers=auth(make_token("root", tid=None, roles=["admin"])))
    assert refused.status_code == 403
    assert fake.api_calls() == []


async def test_require_role_live_asks_tessera(http, fake, make_token):
    fake.roles["root"] = []  # removed after the token was issued
    token = make_token("root", roles=["admin"], sid="s-live")
    assert (await http.get("/admin", headers=auth(token))).status_code == 200
    assert (await http.get("/admin-live", headers=auth(token))).status_code == 403
    fake.roles["root"] = ["admin"]
    assert (await http.get("/admin-live", headers=auth(token))).status_code == 200
    fake.revoked_sessions.add("s-live")
    assert (await http.get("/admin-live", headers=auth(token))).status_code == 401
    assert fake.api_calls() == ["/api/v1/auth/me"] * 3


async def test_a_token_without_the_claim_falls_back_to_tessera(http, fake, make_token):
    fake.roles["root"] = ["admin"]
    assert (await http.get("/admin", headers=auth(make_token("root")))).status_code == 200
    assert fake.api_calls() == ["/api/v1/auth/me"]


async def test_no_token_gets_the_challenge_without_an_error(http):
    """Issue 20: with no token at all the header said error="invalid_token" (RFC 6750 section
    3.1 leaves the error out when the request carried no credentials)."""
    response = await http.get("/whoami")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="tessera"'


async def test_a_bad_token_gets_error_invalid_token(http, make_token):
    response = await http.get("/whoami", headers=auth(make_token(expires_in=-60)))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="tessera", error="invalid_token"'
