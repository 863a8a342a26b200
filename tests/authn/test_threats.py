"""Threat rules fire on events that reveal an attack: an audit event, an alert, a session risk."""

import pytest
from django.test import Client
from tests.authn.conftest import bearer, login, post
from tests.factories import make_member

from tessera.access.models import Role
from tessera.access.services.assignments import role_assign
from tessera.audit.models import AuditEvent
from tessera.authn.models import Session


def suspicious(rule: str):
    return AuditEvent.objects.filter(type="SUSPICIOUS_ACTIVITY", changes__rule=rule)


@pytest.fixture
def member(tenant):
    return make_member(tenant, "target@example.test", roles=["member"])


def test_repeated_failures_on_one_account_raise_one_alert(client, tenant, member):
    for _ in range(7):
        login(client, "target@example.test", "wrong password guess", tenant="acme")
    alerts = suspicious("brute_force_account")
    assert alerts.count() == 1
    assert alerts.get().risk_score == 60 and alerts.get().tenant_id == tenant.pk


def test_failures_across_accounts_from_one_address_raise_an_ip_alert(client, tenant, settings):
    settings.RATE_LIMIT_IP_FAILURES = "1000/5minutes"
    for i in range(21):
        login(client, f"nobody{i}@example.test", "guess", tenant="acme", ip="203.0.113.9")
    assert suspicious("brute_force_ip").filter(ip="203.0.113.9").count() == 1


def test_refresh_token_reuse_is_flagged_with_a_high_score(client, tenant, member):
    tokens = login(client, "target@example.test", tenant="acme").json()
    post(client, "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    thief = Client(REMOTE_ADDR="203.0.113.66")
    post(thief, "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    alert = suspicious("token_reuse").get()
    assert alert.risk_score == 90
    assert Session.objects.get(pk=tokens["session_id"]).risk_score == 90


def test_a_login_from_a_new_device_raises_the_session_risk(tenant, member):
    first = login(Client(HTTP_USER_AGENT="Firefox/1"), "target@example.test", tenant="acme")
    same = login(Client(HTTP_USER_AGENT="Firefox/1"), "target@example.test", tenant="acme")
    new = login(
        Client(HTTP_USER_AGENT="curl/8"), "target@example.test", tenant="acme", ip="198.51.100.7"
    )
    risk = dict(Session.objects.values_list("id", "risk_score"))
    assert risk[_uuid(first.json()["session_id"])] == 0
    assert risk[_uuid(same.json()["session_id"])] == 0
    assert risk[_uuid(new.json()["session_id"])] == 40
    assert suspicious("new_device").count() == 1


def test_the_engine_reads_the_session_risk_through_risk_below(tenant, member):
    """A rule conditioned on risk_below stops applying in a session flagged as risky."""
    role = Role.objects.create(tenant=tenant, slug="low-risk", name="Low risk")
    role.rules.create(effect="allow", permission="report:read", condition={"risk_below": 30})
    role_assign(membership=member, role=role)
    usual, elsewhere = Client(HTTP_USER_AGENT="Firefox/1"), Client(HTTP_USER_AGENT="curl/8")
    known = login(usual, "target@example.test", tenant="acme").json()["access_token"]
    risky = login(elsewhere, "target@example.test", tenant="acme", ip="198.51.100.7")
    risky = risky.json()["access_token"]

    def check(client, token):
        r = client.post(
            "/api/v1/authz/check",
            {"action": "report:read"},
            content_type="application/json",
            headers=bearer(token),
        )
        return r.json()["allowed"]

    assert check(usual, known) is True
    assert check(elsewhere, risky) is False


def test_a_burst_of_access_changes_by_one_actor_is_flagged(tenant):
    boss = make_member(tenant, "burst@example.test", roles=["admin"])
    from tessera.audit.services import Actor

    actor = Actor(type="user", user_id=boss.user_id, membership_id=boss.pk)
    viewer = Role.objects.get(tenant=tenant, slug="viewer")
    for i in range(11):
        target = make_member(tenant, f"t{i}@example.test", roles=[])
        role_assign(membership=target, role=viewer, actor=actor)
    alert = suspicious("privilege_escalation_burst").get()
    assert alert.risk_score == 70


def _uuid(value):
    import uuid

    return uuid.UUID(value)
