"""Issue 12, attacks 7 and 8 on WS /ws/notifications/: no access token in the URL (single-use
tickets instead), the tenant-wide stream of a `notification:read` key stays in its tenant, groups
follow role changes, and sockets close when their session or key ends."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections, transaction
from django.test import Client
from django.utils import timezone

from tessera.administration.members import member_deactivate, member_role_unassign
from tessera.administration.service_accounts import service_account_create
from tessera.asgi import application
from tessera.authn.api_keys import api_key_create, api_key_revoke
from tessera.authn.models import Session
from tessera.authn.session_state import state_invalidate_session
from tessera.realtime.models import WebSocketTicket
from tessera.realtime.notify import notify_security_alert
from tessera.tenancy.services import membership_set_status
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)
TICKET = "/api/v1/auth/ws-ticket"


@pytest.fixture(autouse=True)
async def _close_executor_connections():
    """Database work of async tests and consumers runs in asgiref's shared executor thread, whose
    persistent connection (CONN_MAX_AGE) would outlive the test database otherwise."""
    yield
    await sync_to_async(connections.close_all)()


def _login(email: str, tenant: str = "acme") -> str:
    r = Client().post(
        "/api/v1/auth/login",
        {"email": email, "password": DEFAULT_PASSWORD, "tenant": tenant},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    return r.json()["access_token"]


def _ticket(credential: str) -> str:
    r = Client().post(TICKET, headers={"Authorization": f"Bearer {credential}"})
    assert r.status_code == 200, r.content
    assert r["Cache-Control"] == "no-store"
    body = r.json()
    assert body["ticket"].startswith("wst_") and 0 < body["expires_in"] <= 60
    return body["ticket"]


def _world():
    acme, globex = make_tenant("acme"), make_tenant("globex")
    return {
        "acme": acme,
        "globex": globex,
        "admin": make_member(acme, "admin@acme.test", roles=["admin"]),
        "admin2": make_member(acme, "admin2@acme.test", roles=["admin"]),
        "member": make_member(acme, "member@acme.test", roles=["viewer"]),
        "outsider": make_member(globex, "admin@globex.test", roles=["admin"]),
    }


async def _open(query: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(application, "/ws/notifications/" + query)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    return ws


async def _hello(ws) -> dict:
    message = await ws.receive_json_from(timeout=2)
    assert message["type"] == "hello", message
    return message


async def _closed(ws, timeout=2.0) -> bool:
    """True when the server closed the socket with 4401 (skipping pushes sent before)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        output = await ws.receive_output(timeout=max(left, 0.05))
        if output["type"] == "websocket.close":
            return output.get("code") == 4401


async def _events(ws, until_type: str, timeout=2.0) -> list[dict]:
    seen: list[dict] = []
    while not seen or seen[-1]["type"] != until_type:
        seen.append(await ws.receive_json_from(timeout=timeout))
    return seen


# --- attack 7: tokens in URLs --------------------------------------------------------------------


async def test_attack_access_token_in_the_websocket_url_is_refused():
    await sync_to_async(_world)()
    token = await sync_to_async(_login)("member@acme.test")
    ws = await _open(f"?token={token}")
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_a_ticket_opens_the_socket_once():
    await sync_to_async(_world)()
    token = await sync_to_async(_login)("member@acme.test")
    ticket = await sync_to_async(_ticket)(token)
    assert await sync_to_async(WebSocketTicket.objects.count)() == 1
    stored = await sync_to_async(WebSocketTicket.objects.values_list)("ticket_hash", flat=True)
    assert ticket not in await sync_to_async(list)(stored)  # only its hash is kept
    ws = await _open(f"?ticket={ticket}")
    assert (await _hello(ws))["groups"] == 2
    again = await _open(f"?ticket={ticket}")
    assert await again.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await ws.disconnect()


async def test_an_expired_ticket_is_refused():
    await sync_to_async(_world)()
    token = await sync_to_async(_login)("member@acme.test")
    ticket = await sync_to_async(_ticket)(token)
    await sync_to_async(WebSocketTicket.objects.update)(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    ws = await _open(f"?ticket={ticket}")
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_a_ticket_of_a_session_revoked_since_is_refused():
    world = await sync_to_async(_world)()
    token = await sync_to_async(_login)("member@acme.test")
    ticket = await sync_to_async(_ticket)(token)
    await sync_to_async(membership_set_status)(membership=world["member"], status="suspended")
    ws = await _open(f"?ticket={ticket}")
    assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


def test_tickets_need_a_credential(db):
    assert Client().post(TICKET).status_code == 401


def test_a_session_cookie_asks_a_ticket_with_its_csrf_token(db):
    _world()
    browser = Client(enforce_csrf_checks=True)
    browser.post(
        "/api/v1/auth/login",
        {"email": "member@acme.test", "password": DEFAULT_PASSWORD, "cookie": True},
        content_type="application/json",
    )
    assert browser.post(TICKET).status_code == 403
    csrf = browser.cookies["csrftoken"].value
    assert browser.post(TICKET, headers={"X-CSRFToken": csrf}).status_code == 200


# --- the tenant-wide stream of a notification:read key -------------------------------------------


def _service_key(world, scopes=("notification:read",)) -> tuple[str, object]:
    account = service_account_create(
        tenant=world["acme"], name="Watcher", roles=["admin"], by=world["admin"]
    )
    created = api_key_create(owner=account, by=world["admin"], name="ws", scopes=list(scopes))
    return created.raw, created.key


def test_a_key_without_notification_read_gets_no_ticket(db):
    world = _world()
    raw, _ = _service_key(world, scopes=["user:read"])
    r = Client().post(TICKET, headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 403


async def test_the_tenant_stream_hears_every_member_of_its_tenant_and_no_other():
    world = await sync_to_async(_world)()
    raw, _ = await sync_to_async(_service_key)(world)
    ws = await _open(f"?ticket={await sync_to_async(_ticket)(raw)}")
    assert (await _hello(ws))["groups"] == 2  # the tenant stream, and its own key's (revocation)

    # another tenant's member: suspended, their sessions revoked — nothing reaches acme's stream
    await sync_to_async(_login)("admin@globex.test", "globex")
    outsider = world["outsider"]
    await sync_to_async(make_member)(world["globex"], "other@globex.test", roles=["admin"])
    await sync_to_async(member_deactivate)(membership=outsider, by=None)
    assert await ws.receive_nothing(timeout=0.5)

    # acme's member: each of the three kinds arrives
    await sync_to_async(_login)("member@acme.test")
    await sync_to_async(member_deactivate)(membership=world["member"], by=world["admin"])
    kinds = set()
    while kinds != {"session.revoked", "membership.changed", "permissions.changed"}:
        event = await ws.receive_json_from(timeout=2)
        assert event["tenant_id"] == str(world["acme"].pk), event
        kinds.add(event["type"])
    await ws.disconnect()


async def test_the_tenant_stream_closes_at_once_when_its_key_is_revoked(settings):
    settings.WS_RECHECK_SECONDS = 3600  # no periodic re-check: the revocation itself closes it
    world = await sync_to_async(_world)()
    raw, key = await sync_to_async(_service_key)(world)
    ws = await _open(f"?ticket={await sync_to_async(_ticket)(raw)}")
    await _hello(ws)
    await sync_to_async(api_key_revoke)(key=key)
    assert await _closed(ws)


# --- attack 8: group membership follows roles, sockets follow sessions -------------------------


def _alert(tenant) -> None:
    with transaction.atomic():
        notify_security_alert(tenant_id=tenant.pk, alert="test_alert", risk_score=50)


async def test_attack_demoted_admin_socket_stops_receiving_security_alerts():
    world = await sync_to_async(_world)()
    token = await sync_to_async(_login)("admin2@acme.test")
    ws = await _open(f"?ticket={await sync_to_async(_ticket)(token)}")
    assert (await _hello(ws))["groups"] == 3
    await sync_to_async(_alert)(world["acme"])
    assert (await _events(ws, "security.alert"))[-1]["alert"] == "test_alert"

    await sync_to_async(member_role_unassign)(
        membership=world["admin2"], slug="admin", by=world["admin"], actor=None
    )
    await sync_to_async(_alert)(world["acme"])  # may be queued before the demotion is seen
    await _events(ws, "permissions.changed")
    await sync_to_async(_alert)(world["acme"])
    assert await ws.receive_nothing(timeout=0.5)  # neither alert reaches the former admin
    await ws.disconnect()


async def test_attack_socket_closes_when_its_session_expires(settings):
    settings.WS_RECHECK_SECONDS = 0.2
    world = await sync_to_async(_world)()
    token = await sync_to_async(_login)("member@acme.test")
    ws = await _open(f"?ticket={await sync_to_async(_ticket)(token)}")
    await _hello(ws)

    def expire():
        with transaction.atomic():
            session = Session.objects.get(user=world["member"].user, revoked_at__isnull=True)
            Session.objects.filter(pk=session.pk).update(
                expires_at=timezone.now() - timedelta(seconds=1)
            )
            state_invalidate_session(tenant_id=session.tenant_id, session_id=session.pk)

    await sync_to_async(expire)()
    assert await _closed(ws)


async def test_a_timer_closes_the_socket_at_the_sessions_absolute_expiry(settings):
    settings.WS_RECHECK_SECONDS = 60  # the periodic check is far away: the expiry timer acts
    world = await sync_to_async(_world)()
    token = await sync_to_async(_login)("member@acme.test")

    def expire_soon():
        with transaction.atomic():
            session = Session.objects.get(user=world["member"].user, revoked_at__isnull=True)
            Session.objects.filter(pk=session.pk).update(
                absolute_expires_at=timezone.now() + timedelta(seconds=2)
            )
            state_invalidate_session(tenant_id=session.tenant_id, session_id=session.pk)

    ticket = await sync_to_async(_ticket)(token)
    await sync_to_async(expire_soon)()
    ws = await _open(f"?ticket={ticket}")
    await _hello(ws)
    assert await _closed(ws, timeout=8)


async def test_logout_closes_the_socket_of_that_session():
    await sync_to_async(_world)()
    token = await sync_to_async(_login)("member@acme.test")
    ws = await _open(f"?ticket={await sync_to_async(_ticket)(token)}")
    await _hello(ws)
    r = await sync_to_async(Client().post)(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 204
    assert await _closed(ws)


@pytest.mark.postgres  # SQLite's in-memory test database locks whole tables across threads
def test_concurrent_redeemers_of_one_ticket_get_it_once():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from tessera.realtime.tickets import ticket_issue, ticket_redeem

    world = _world()
    _login("member@acme.test")
    session = Session.objects.get(user=world["member"].user, revoked_at__isnull=True)
    ticket, _ = ticket_issue(
        user_id=session.user_id,
        session_id=session.pk,
        tenant_id=session.tenant_id,
        membership_id=session.membership_id,
    )
    barrier = threading.Barrier(6)

    def redeem(_):
        try:
            barrier.wait(timeout=10)
            return ticket_redeem(ticket) is not None
        finally:
            connection.close()

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(redeem, range(6)))
    assert results.count(True) == 1
    assert not WebSocketTicket.objects.exists()


def test_notification_read_is_in_the_catalog_and_held_by_admins_only():
    from importlib import import_module

    from django.apps import apps

    from tessera.access.catalog import SYSTEM_PERMISSIONS
    from tessera.access.models import Permission

    assert "notification:read" in SYSTEM_PERMISSIONS
    migration = import_module("tessera.realtime.migrations.0001_ws_tickets")
    migration.seed_notification_permission(apps, None)  # (transactional tests flush seeded rows)
    assert Permission.objects.filter(
        tenant=None, permission="notification:read", is_system=True
    ).exists()
    world = _world()
    raw, _ = _service_key(world)
    r = Client().post(TICKET, headers={"X-API-Key": raw})
    assert r.status_code == 200  # the other header works as well
    member_token = _login("member@acme.test")
    r = Client().post(
        "/api/v1/api-keys",
        {"name": "ws", "scopes": ["notification:read"]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {member_token}"},
    )
    assert r.status_code in (403, 422), r.content  # a viewer cannot mint such a key


def _cookie_header(email: str) -> bytes:
    browser = Client()
    r = browser.post(
        "/api/v1/auth/login",
        {"email": email, "password": DEFAULT_PASSWORD, "tenant": "acme", "cookie": True},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    return f"tessera_session={browser.cookies['tessera_session'].value}".encode()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser
        ("http://testserver", True),  # one of ALLOWED_HOSTS
        ("https://app.example.com", True),  # TESSERA_CORS_ORIGINS
        ("https://evil.example", False),  # cross-site WebSocket hijacking
        ("null", False),
    ],
)
async def test_a_session_cookie_opens_the_socket_from_allowed_origins_only(
    settings, origin, allowed
):
    settings.CORS_ORIGINS = ["https://app.example.com"]
    await sync_to_async(_world)()
    headers = [(b"cookie", await sync_to_async(_cookie_header)("member@acme.test"))]
    if origin:
        headers.append((b"origin", origin.encode()))
    ws = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    if allowed:
        await _hello(ws)
        await ws.disconnect()
    else:
        assert await ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
