"""Races on PostgreSQL: one winner of two acceptances; two tenants inviting one person at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.identity.models import User
from tessera.tenancy.models import Invitation, Membership, MembershipStatus
from tests.factories import make_member, make_tenant
from tests.ownership.conftest import API, NEW_PASSWORD, mailed_token, token_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Run the calls at the same moment in threads; their responses, in call order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def post(path, body, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client().post(API + path, body, "application/json", headers=headers)


@pytest.fixture
def tenants():
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_member(acme, "admin@acme.test", roles=["admin"])
    make_member(globex, "admin@globex.test", roles=["admin"])
    return acme, globex


def test_two_acceptances_of_one_invitation_have_one_winner(tenants):
    acme, _ = tenants
    person = make_member(make_tenant("initech"), "p@initech.test").user
    r = post("/users", {"email": person.email}, token_of("admin@acme.test", "acme"))
    assert r.status_code == 201 and r.json()["status"] == "invited"
    token = mailed_token("invitation", person.email)
    body = {"token": token, "password": NEW_PASSWORD}
    answers = race(*(lambda: post("/auth/invitations/accept", body) for _ in range(2)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 400], [a.content for a in answers]
    loser = next(a for a in answers if a.status_code == 400)
    assert loser.json()["code"] == "invitation_used"
    assert AuditEvent.objects.filter(type=AuditEventType.INVITATION_ACCEPTED).count() == 1
    assert Membership.objects.get(user=person, tenant=acme).status == MembershipStatus.ACTIVE


def test_two_tenants_inviting_one_existing_person_at_once_both_succeed(tenants):
    acme, globex = tenants
    person = make_member(make_tenant("initech"), "p@initech.test").user
    tokens = [token_of("admin@acme.test", "acme"), token_of("admin@globex.test", "globex")]
    answers = race(*(lambda t=t: post("/users", {"email": person.email}, t) for t in tokens))
    assert [a.status_code for a in answers] == [201, 201], [a.content for a in answers]
    assert {a.json()["status"] for a in answers} == {"invited"}
    assert Invitation.objects.filter(membership__user=person).count() == 2


def test_two_tenants_creating_one_new_address_at_once_both_succeed(tenants):
    tokens = [token_of("admin@acme.test", "acme"), token_of("admin@globex.test", "globex")]
    answers = race(*(lambda t=t: post("/users", {"email": "new@example.test"}, t) for t in tokens))
    assert [a.status_code for a in answers] == [201, 201], [a.content for a in answers]
    # one of them created (and manages) the identity; the other only invited it
    assert sorted(a.json()["status"] for a in answers) == ["active", "invited"]
    assert User.objects.filter(email="new@example.test").count() == 1
