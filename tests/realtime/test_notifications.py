"""WS /ws/notifications/: authenticated, and told about changes within a second of the commit."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from tessera.access.models import Role
from tessera.access.services.roles import role_update
from tessera.asgi import application
from tessera.authn.sessions import sessions_revoke_for_user
from tessera.tenancy.services import membership_set_status
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _setup():
    tenant = make_tenant("acme")
    member = make_member(tenant, "ws-member@example.test", roles=["viewer"])
    boss = make_member(tenant, "ws-admin@example.test", roles=["admin"])
    tokens = {}
    for who in (member, boss):
        r = Client().post(
            "/api/v1/auth/login",
            {"email": who.user.email, "password": "correct horse battery staple", "tenant": "acme"},
            content_type="application/json",
        )
        assert r.status_code == 200, r.content
        tokens[who.user.email] = r.json()["access_token"]
    return tenant, member, boss, tokens


def ticket_for(token: str) -> str | None:
    """A WebSocket ticket asked with the access token (None when the token is refused)."""
    r = Client().post("/api/v1/auth/ws-ticket", headers={"Authorization": f"Bearer {token}"})
    return r.json()["ticket"] if r.status_code == 200 else None


async def connect(token: str | None, **kw) -> WebsocketCommunicator:
    """Open the socket with a ticket asked with `token` (a refused token is sent as the ticket)."""
    ticket = (await sync_to_async(ticket_for)(token) or token) if token else None
    path = "/ws/notifications/" + (f"?ticket={ticket}" if ticket else "")
    communicator = WebsocketCommunicator(application, path, **kw)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def receive(communicator, timeout=1.0):
    return await communicator.receive_json_from(timeout=timeout)


async def test_a_role_edit_reaches_every_holder_within_a_second():
    tenant, member, _, tokens = await sync_to_async(_setup)()
    ws = await connect(tokens["ws-member@example.test"])
    assert (await receive(ws))["type"] == "hello"

    def edit_viewer_role():
        role = Role.objects.get(tenant=tenant, slug="viewer")
        role_update(role=role, rules=[{"effect": "allow", "permission": "user:read"}])

    await sync_to_async(edit_viewer_role)()
    event = await receive(ws, timeout=1.0)
    assert event["type"] == "permissions.changed" and event["tenant_id"] == str(tenant.pk)
    await ws.disconnect()


async def test_logout_all_sends_session_revoked_and_closes_that_connection():
    _, member, _, tokens = await sync_to_async(_setup)()
    ws = await connect(tokens["ws-member@example.test"])
    await receive(ws)
    await sync_to_async(sessions_revoke_for_user)(user=member.user, reason="logout_all")
    event = await receive(ws)
    assert event["type"] == "session.revoked" and event["reason"] == "logout_all"
    closed = await ws.receive_output(timeout=1)
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_admins_hear_membership_changes_and_members_do_not_hear_others():
    tenant, member, _, tokens = await sync_to_async(_setup)()
    admin_ws = await connect(tokens["ws-admin@example.test"])
    await receive(admin_ws)
    bystander = await sync_to_async(make_member)(tenant, "ws-other@example.test", roles=["viewer"])
    other_ws = await connect(tokens["ws-member@example.test"])
    await receive(other_ws)
    await sync_to_async(membership_set_status)(membership=bystander, status="suspended")
    event = await receive(admin_ws)
    assert event["type"] == "membership.changed" and event["status"] == "suspended"
    assert event["user_id"] == str(bystander.user_id)
    assert await other_ws.receive_nothing(timeout=0.3)
    await admin_ws.disconnect()
    await other_ws.disconnect()


@pytest.mark.parametrize("token", [None, "not-a-token", "eyJhbGciOiJub25lIn0.e30."])
async def test_bad_or_missing_credentials_close_with_4401(token):
    await sync_to_async(_setup)()
    ws = await connect(token)
    assert await ws.receive_output(timeout=1) == {"type": "websocket.close", "code": 4401}


async def test_a_token_of_a_revoked_session_is_refused():
    _, member, _, tokens = await sync_to_async(_setup)()
    await sync_to_async(sessions_revoke_for_user)(user=member.user, reason="logout_all")
    ws = await connect(tokens["ws-member@example.test"])
    assert await ws.receive_output(timeout=1) == {"type": "websocket.close", "code": 4401}


async def test_ping_pong():
    _, _, _, tokens = await sync_to_async(_setup)()
    ws = await connect(tokens["ws-member@example.test"])
    await receive(ws)
    await ws.send_json_to({"type": "ping"})
    assert (await receive(ws))["type"] == "pong"
    await ws.disconnect()
    await asyncio.sleep(0)


async def test_tenant_admins_receive_security_alerts():
    _, member, _, tokens = await sync_to_async(_setup)()
    admin_ws = await connect(tokens["ws-admin@example.test"])
    await receive(admin_ws)

    def reuse_a_refresh_token():
        client = Client()
        body = {
            "email": member.user.email,
            "password": "correct horse battery staple",
            "tenant": "acme",
        }
        refresh = client.post("/api/v1/auth/login", body, content_type="application/json")
        refresh = {"refresh_token": refresh.json()["refresh_token"]}
        client.post("/api/v1/auth/refresh", refresh, content_type="application/json")
        thief = Client(REMOTE_ADDR="203.0.113.66")
        thief.post("/api/v1/auth/refresh", refresh, content_type="application/json")

    await sync_to_async(reuse_a_refresh_token)()
    seen = []
    while not seen or seen[-1]["type"] != "security.alert":
        seen.append(await receive(admin_ws, timeout=1.0))
    alert = seen[-1]
    assert alert["alert"] == "token_reuse" and alert["risk_score"] == 90
    await admin_ws.disconnect()
