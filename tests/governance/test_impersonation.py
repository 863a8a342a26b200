"""Impersonation (#15 item 4): the `act` claim, the audit trail with both identities, the
member's notification and session list, and every refusal — each leaving nothing changed."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.test import Client
from django.utils import timezone

from tessera.access.models import Role
from tessera.access.services.assignments import role_assign
from tessera.access.services.roles import role_create
from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import ApiKey, Session
from tessera.realtime import notify
from tessera.realtime.groups import user_group
from tests.authn.conftest import bearer, login, post
from tests.factories import make_member, make_tenant

IMPERSONATE = "/api/v1/auth/impersonate"
REASON = "ticket 4711: the member cannot see the approval queue"


@pytest.fixture
def acme(db):
    tenant = make_tenant("acme", impersonation={"enabled": True})
    admin = make_member(tenant, "admin@acme.test", roles=["admin"])
    manager = make_member(tenant, "manager@acme.test", roles=["manager"])
    support = role_create(
        tenant=tenant,
        slug="support",
        name="Support",
        rules=[{"effect": "allow", "permission": "user:impersonate", "scope": "all"}],
    )
    role_assign(membership=manager, role=support)
    member = make_member(tenant, "member@acme.test", roles=["member"])
    return tenant, admin, manager, member


def token_of(client: Client, email: str) -> str:
    response = login(client, email)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def impersonate(client, token, user_id, reason=REASON, **extra):
    body = {"user_id": str(user_id), "reason": reason, **extra}
    return post(client, IMPERSONATE, body, token=token)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def published(monkeypatch):
    """What reaches the channel layer (after commit), as (group, payload) pairs."""
    sent: list[tuple[str, dict]] = []
    real = notify._send

    def record(group, payload):
        sent.append((group, payload))
        real(group, payload)

    monkeypatch.setattr(notify, "_send", record)
    return sent


def test_an_admin_acts_as_a_member_with_both_identities_on_the_token_and_in_the_audit(
    acme, published, django_capture_on_commit_callbacks
):
    _, admin, manager, member = acme
    client = Client()
    admin_token = token_of(client, "admin@acme.test")
    to_member = user_group(member.user_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = impersonate(client, admin_token, member.user_id, minutes=10)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["user"]["id"] == str(member.user_id)
    assert answer["impersonator_id"] == str(admin.user_id)
    assert [m["tenant"]["slug"] for m in answer["memberships"]] == ["acme"]
    token = answer["access_token"]
    assert claims(token)["sub"] == str(member.user_id)
    assert claims(token)["act"] == {"sub": str(admin.user_id)}

    # the member is told at once, on their own sockets
    pushed = next(p for g, p in published if g == to_member)
    assert pushed["type"] == "impersonation.started"
    assert pushed["impersonator_id"] == str(admin.user_id)
    assert pushed["reason"] == REASON

    # the member sees the session in their own list
    own = token_of(client, "member@acme.test")
    listed = client.get("/api/v1/auth/sessions", headers=bearer(own)).json()["items"]
    marked = [s for s in listed if s["impersonator_id"]]
    assert [s["id"] for s in marked] == [answer["session_id"]]
    assert marked[0]["impersonation_reason"] == REASON
    assert marked[0]["auth_method"] == "impersonation"

    # acting: the token is the member's; the audit names both people
    me = client.get("/api/v1/auth/me", headers=bearer(token)).json()
    assert me["user"]["id"] == str(member.user_id)
    response = client.patch(
        "/api/v1/auth/me",
        {"first_name": "Mallory"},
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 200, response.content
    started = AuditEvent.objects.get(type=AuditEventType.IMPERSONATION_STARTED)
    assert started.actor_user_id == admin.user_id
    assert started.changes["target_id"] == str(member.user_id)
    assert started.changes["reason"] == REASON
    profile = AuditEvent.objects.get(type=AuditEventType.PROFILE_UPDATE)
    assert (profile.actor_user_id, profile.actor_impersonator_id) == (
        member.user_id,
        admin.user_id,
    )
    now = timezone.now()
    delegated = post(
        client,
        "/api/v1/delegations",
        {
            "delegate_id": str(manager.user_id),
            "permissions": ["user:read"],
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "reason": "holiday",
        },
        token=token,
    )
    assert delegated.status_code == 201, delegated.content
    listed = client.get(
        "/api/v1/audit-events", {"type": "DELEGATION_CREATED"}, headers=bearer(admin_token)
    ).json()["items"]
    assert listed[0]["actor"]["user_id"] == str(member.user_id)
    assert listed[0]["actor"]["impersonator_id"] == str(admin.user_id)
    verified = post(client, "/api/v1/audit-events/verify", token=admin_token).json()
    assert verified["valid"] is True

    # a refresh keeps the `act` claim
    refreshed = post(client, "/api/v1/auth/refresh", {"refresh_token": answer["refresh_token"]})
    assert claims(refreshed.json()["access_token"])["act"] == {"sub": str(admin.user_id)}
    token = refreshed.json()["access_token"]

    # ending it: the token dies at once, the end is audited, the member is told
    with django_capture_on_commit_callbacks(execute=True):
        ended = post(client, IMPERSONATE + "/end", token=token)
    assert ended.status_code == 200, ended.content
    kinds = [p["type"] for g, p in published if g == to_member]
    assert kinds.count("impersonation.started") == 1
    assert "impersonation.ended" in kinds and "session.revoked" in kinds
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    ended_event = AuditEvent.objects.get(type=AuditEventType.IMPERSONATION_ENDED)
    assert ended_event.actor_impersonator_id == admin.user_id


def test_the_session_lasts_no_longer_than_asked(acme):
    _, _, _, member = acme
    client = Client()
    answer = impersonate(client, token_of(client, "admin@acme.test"), member.user_id, minutes=5)
    session = Session.objects.get(pk=answer.json()["session_id"])
    assert (session.absolute_expires_at - session.created_at).total_seconds() <= 5 * 60 + 1
    assert session.impersonator_id is not None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/auth/password/change", {"current_password": "x", "new_password": "y"}),
        ("post", "/api/v1/auth/mfa/totp/setup", {}),
        ("post", "/api/v1/auth/mfa/disable", {"password": "x", "code": "1"}),
        ("post", "/api/v1/api-keys", {"name": "k", "scopes": ["user:read"]}),
        ("post", IMPERSONATE, {"user_id": "00000000-0000-0000-0000-000000000000", "reason": "r"}),
        ("post", "/api/v1/auth/logout", {"all": True}),
        ("post", "/api/v1/auth/switch-tenant", {"tenant": "acme"}),
        ("delete", "/api/v1/auth/sessions/00000000-0000-0000-0000-000000000000", None),
    ],
)
def test_an_impersonation_session_never_changes_credentials(acme, method, path, body):
    _, _, _, member = acme
    client = Client()
    answer = impersonate(client, token_of(client, "admin@acme.test"), member.user_id).json()
    headers = bearer(answer["access_token"])
    sessions_before = Session.objects.filter(revoked_at__isnull=True).count()
    if method == "post":
        response = client.post(path, body, content_type="application/json", headers=headers)
    else:
        response = client.delete(path, headers=headers)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "impersonation_forbidden"
    assert ApiKey.objects.count() == 0
    assert Session.objects.filter(revoked_at__isnull=True).count() == sessions_before
    assert Session.objects.filter(impersonator__isnull=False).count() == 1


def test_a_manager_cannot_impersonate_an_admin(acme):
    _, admin, _, member = acme
    client = Client()
    token = token_of(client, "manager@acme.test")
    response = impersonate(client, token, admin.user_id)
    assert response.status_code == 403
    assert response.json()["code"] == "target_outranks_you"
    assert not Session.objects.filter(impersonator__isnull=False).exists()
    assert not AuditEvent.objects.filter(type=AuditEventType.IMPERSONATION_STARTED).exists()
    assert impersonate(client, token, member.user_id).status_code == 200


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"reason": ""}, "reason_required"),
        ({"reason": "   "}, "reason_required"),
        ({"minutes": 31}, "duration_too_long"),
        ({"minutes": 0}, "duration_too_long"),
    ],
)
def test_a_reason_and_a_bounded_duration_are_required(acme, extra, code):
    _, _, _, member = acme
    client = Client()
    response = impersonate(client, token_of(client, "admin@acme.test"), member.user_id, **extra)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert not Session.objects.filter(impersonator__isnull=False).exists()


def test_without_a_reason_field_at_all(acme):
    _, _, _, member = acme
    client = Client()
    token = token_of(client, "admin@acme.test")
    response = post(client, IMPERSONATE, {"user_id": str(member.user_id)}, token=token)
    assert response.status_code == 422
    assert not Session.objects.filter(impersonator__isnull=False).exists()


def test_off_by_default_even_for_an_admin(db):
    tenant = make_tenant("initech")
    make_member(tenant, "admin@initech.test", roles=["admin"])
    target = make_member(tenant, "bob@initech.test", roles=["viewer"])
    client = Client()
    response = impersonate(client, token_of(client, "admin@initech.test"), target.user_id)
    assert response.status_code == 403
    assert response.json()["code"] == "impersonation_disabled"
    assert not Session.objects.filter(impersonator__isnull=False).exists()


def test_without_the_permission_or_across_tenants(acme):
    tenant, admin, _, member = acme
    other = make_tenant("globex", impersonation={"enabled": True})
    stranger = make_member(other, "stranger@globex.test", roles=["viewer"])
    client = Client()
    member_token = token_of(client, "member@acme.test")
    response = impersonate(client, member_token, admin.user_id)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    admin_token = token_of(client, "admin@acme.test")
    assert impersonate(client, admin_token, stranger.user_id).status_code == 404
    assert impersonate(client, admin_token, admin.user_id).json()["code"] == "impersonate_self"
    assert Role.objects.filter(tenant=tenant, slug="support").exists()
    assert not Session.objects.filter(impersonator__isnull=False).exists()
