"""Leavers: one request kills every credential; transfers; refusals; erasure at the set time."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.db import connections
from django.test import Client
from django.utils import timezone

from tessera.access.models import Delegation, DelegationStatus, Grant
from tessera.access.services.grants import grant_create
from tessera.asgi import application
from tessera.audit.models import AuditEvent
from tessera.identity.models import User
from tessera.lifecycle.models import Offboarding
from tessera.lifecycle.offboarding import offboardings_erase_due
from tessera.tenancy.models import Membership
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

API = "/api/v1"


def _post(client, path, body=None, token=None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(
        API + path, json.dumps(body or {}), content_type="application/json", headers=headers
    )


def _login(email):
    r = _post(
        Client(), "/auth/login", {"email": email, "password": DEFAULT_PASSWORD, "tenant": "acme"}
    )
    assert r.status_code == 200, r.content
    return r.json()


def _live_world():
    """A leaver holding every kind of credential, a delegation given and one received."""
    acme = make_tenant("acme")
    make_member(acme, "admin@acme.test", roles=["admin"])
    boss = make_member(acme, "boss@acme.test", roles=["manager"])
    leaver = make_member(acme, "leaver@acme.test", roles=["manager"], manager=boss)
    heir = make_member(acme, "heir@acme.test", roles=["manager"])
    helper = make_member(acme, "helper@acme.test", roles=["member"])
    tokens = _login("leaver@acme.test")
    key = _post(
        Client(), "/api-keys", {"name": "ci", "scopes": ["user:read"]}, tokens["access_token"]
    )
    assert key.status_code == 201, key.content
    ends = (timezone.now() + timedelta(days=5)).isoformat()
    given = _post(
        Client(),
        "/delegations",
        {"delegate_id": str(helper.user_id), "permissions": ["grant:read"], "ends_at": ends},
        tokens["access_token"],
    )
    assert given.status_code == 201, given.content
    admin_token = _login("admin@acme.test")["access_token"]
    received = _post(
        Client(),
        "/delegations",
        {
            "delegator_id": str(boss.user_id),
            "delegate_id": str(leaver.user_id),
            "permissions": ["audit_log:read"],
            "ends_at": ends,
        },
        admin_token,
    )
    assert received.status_code == 201, received.content
    grant_create(
        tenant=acme,
        permission="user:read",
        resource_type="report",
        resource_id="r-1",
        membership=helper,
        granted_by=leaver,
    )
    ticket = _post(Client(), "/auth/ws-ticket", token=tokens["access_token"]).json()["ticket"]
    return {
        "acme": acme,
        "leaver": leaver,
        "heir": heir,
        "helper": helper,
        "tokens": tokens,
        "api_key": key.json()["key"],
        "admin_token": admin_token,
        "ticket": ticket,
        "given": given.json()["id"],
        "received": received.json()["id"],
    }


def _offboard(w):
    mail.outbox.clear()
    r = _post(
        Client(),
        f"/users/{w['leaver'].user_id}/offboard",
        {"transfer_to": str(w["heir"].user_id), "erase_after_days": 7},
        w["admin_token"],
    )
    assert r.status_code == 200, r.content
    return r.json()


def _next_requests(w):
    """Each credential's very next request."""
    client = Client()
    return {
        "access_token": client.get(
            API + "/auth/me", headers={"Authorization": f"Bearer {w['tokens']['access_token']}"}
        ).status_code,
        "refresh_token": _post(
            client, "/auth/refresh", {"refresh_token": w["tokens"]["refresh_token"]}
        ).status_code,
        "api_key": client.get(API + "/users", headers={"X-API-Key": w["api_key"]}).status_code,
    }


@pytest.mark.django_db(transaction=True)
async def test_offboarding_kills_every_credential_at_once_and_erases_at_the_set_time():
    w = await sync_to_async(_live_world)()
    assert await sync_to_async(_next_requests)(w) == {
        "access_token": 200,
        "refresh_token": 200,
        "api_key": 200,
    }
    w["tokens"] = await sync_to_async(_login)("leaver@acme.test")  # the refresh above rotated it
    ws = WebsocketCommunicator(application, f"/ws/notifications/?ticket={w['ticket']}")
    connected, _ = await ws.connect(timeout=5)
    assert connected and (await ws.receive_json_from(timeout=2))["type"] == "hello"

    answer = await sync_to_async(_offboard)(w)

    assert answer["status"] == "offboarded"
    assert await sync_to_async(_next_requests)(w) == {
        "access_token": 401,
        "refresh_token": 401,
        "api_key": 401,
    }
    closed = None
    for _ in range(5):  # events before the close (membership.changed, session.revoked, ...)
        message = await ws.receive_output(timeout=2)
        if message["type"] == "websocket.close":
            closed = message
            break
    assert closed == {"type": "websocket.close", "code": 4401}
    await ws.disconnect()

    def after_offboarding():
        steps = answer["steps"]
        assert steps["credentials_revoked"]["sessions"] >= 1
        assert steps["credentials_revoked"]["api_keys"] == 1
        assert steps["delegations_received_ended"] == [w["received"]]
        assert steps["delegations_given"]["ended"] == [w["given"]]
        [moved] = steps["delegations_given"]["transferred_as"]
        again = Delegation.objects.get(pk=moved)
        assert (again.delegator_id, again.delegate_id) == (w["heir"].pk, w["helper"].pk)
        assert again.status == DelegationStatus.ACTIVE and again.permissions == ["grant:read"]
        for old in (w["given"], w["received"]):
            assert Delegation.objects.get(pk=old).status == DelegationStatus.REVOKED
        assert Grant.objects.get(resource_id="r-1").granted_by_id == w["heir"].pk
        assert steps["manager_notified"] is True
        assert [m.to for m in mail.outbox] == [["boss@acme.test"]]
        assert Membership.objects.get(pk=w["leaver"].pk).status == "suspended"
        offboarding = Offboarding.objects.get(pk=answer["id"])
        assert offboarding.export["membership"] and offboarding.export["audit_events"]
        types = set(AuditEvent.objects.values_list("type", flat=True))
        assert {"MEMBER_OFFBOARDED", "DATA_EXPORTED", "SESSION_REVOKED"} <= types

        erase_at = offboarding.erase_at
        assert offboardings_erase_due(now=erase_at - timedelta(seconds=1)) == 0
        assert Membership.objects.filter(pk=w["leaver"].pk).exists()
        assert offboardings_erase_due(now=erase_at) == 1
        assert not Membership.objects.filter(pk=w["leaver"].pk).exists()
        user = User.objects.get(pk=w["leaver"].user_id)
        assert user.email.endswith("@erased.invalid") and not user.is_active
        offboarding.refresh_from_db()
        assert (offboarding.status, offboarding.export) == ("erased", None)
        assert AuditEvent.objects.filter(type="DATA_ERASED").exists()
        assert offboardings_erase_due(now=erase_at + timedelta(days=1)) == 0

    try:
        await sync_to_async(after_offboarding)()
    finally:  # the executor thread's connection would outlive the test database otherwise
        await sync_to_async(connections.close_all)()
