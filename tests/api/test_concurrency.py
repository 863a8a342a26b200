"""Races on PostgreSQL: duplicate creates, role capacity, the last two admins."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from tessera.access.models import Role, RoleAssignment
from tessera.identity.models import User
from tessera.tenancy.models import Membership, MembershipStatus
from tests.api.conftest import Api
from tests.factories import make_member, make_tenant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Run the calls at the same moment in threads; their responses' status codes, sorted."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call().status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return sorted(results)


@pytest.fixture
def acme():
    tenant = make_tenant("acme")
    admins = [make_member(tenant, f"admin{i}@acme.test", roles=["admin"]) for i in range(2)]
    return tenant, admins


def test_concurrent_duplicate_creates_give_one_201_and_one_409(acme):
    _, (first, second) = acme
    clients = [Api(first.user, "acme"), Api(second.user, "acme")]
    body = {"email": "race@acme.test", "roles": ["viewer"]}
    assert race(*(lambda c=c: c.post("/users", body) for c in clients)) == [201, 409]
    assert User.objects.filter(email="race@acme.test").count() == 1
    assert Membership.objects.filter(user__email="race@acme.test").count() == 1


def test_concurrent_adds_of_an_existing_identity_give_one_201_and_one_409(acme):
    tenant, (first, second) = acme
    other = make_tenant("globex")
    person = make_member(other, "known@globex.test").user
    clients = [Api(first.user, "acme"), Api(second.user, "acme")]
    body = {"email": person.email}
    assert race(*(lambda c=c: c.post("/users", body) for c in clients)) == [201, 409]
    assert Membership.objects.filter(user=person, tenant=tenant).count() == 1


def test_role_capacity_holds_under_concurrent_assignment(acme):
    tenant, (first, second) = acme
    Role.objects.filter(tenant=tenant, slug="manager").update(max_members=1)
    a, b = (make_member(tenant, f"m{i}@acme.test", roles=[]) for i in range(2))
    calls = [
        lambda: Api(first.user, "acme").post(f"/users/{a.user_id}/roles", {"roles": ["manager"]}),
        lambda: Api(second.user, "acme").post(f"/users/{b.user_id}/roles", {"roles": ["manager"]}),
    ]
    assert race(*calls) == [200, 409]
    assert RoleAssignment.objects.filter(role__tenant=tenant, role__slug="manager").count() == 1


def test_the_last_two_admins_cannot_deactivate_each_other_at_once(acme):
    tenant, (first, second) = acme
    calls = [
        lambda: Api(first.user, "acme").post(f"/users/{second.user_id}/deactivate"),
        lambda: Api(second.user, "acme").post(f"/users/{first.user_id}/deactivate"),
    ]
    statuses = race(*calls)
    active = Membership.objects.filter(
        tenant=tenant, status=MembershipStatus.ACTIVE, user__email__startswith="admin"
    ).count()
    assert active == 1
    assert statuses in ([200, 409], [200, 403])  # the loser is refused (or already suspended)
