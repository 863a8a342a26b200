"""Two administrators acting at once in the console, on PostgreSQL: the services' locks and
constraints hold, each loser gets a page saying why, and nothing is done twice."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.access.models import RoleAssignment
from tessera.identity.models import User
from tessera.tenancy.models import Membership, MembershipStatus
from tests.api.test_concurrency import race  # threads released at once
from tests.console.conftest import sign_in
from tests.factories import make_member, make_tenant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_admins():
    tenant = make_tenant("acme")
    admins = [make_member(tenant, f"admin{i}@acme.test", roles=["admin"]) for i in range(2)]
    clients = []
    for admin in admins:
        client = Client()
        sign_in(client, admin)
        clients.append(client)
    return tenant, admins, clients


def test_two_invitations_of_one_address_at_once_make_one_member(two_admins):
    _, _, clients = two_admins
    body = {"email": "race@acme.test", "roles": ["viewer"]}
    calls = (lambda c=c: c.post("/console/members/invite/", body) for c in clients)
    assert race(*calls) == [303, 409]
    assert User.objects.filter(email="race@acme.test").count() == 1
    assert Membership.objects.filter(user__email="race@acme.test").count() == 1


def test_the_last_two_administrators_cannot_suspend_each_other_at_once(two_admins):
    _, admins, clients = two_admins
    first, second = admins
    calls = (
        lambda: clients[0].post(f"/console/members/{second.user_id}/suspend"),
        lambda: clients[1].post(f"/console/members/{first.user_id}/suspend"),
    )
    codes = race(*calls)
    active = Membership.objects.filter(
        pk__in=[first.pk, second.pk], status=MembershipStatus.ACTIVE
    ).count()
    assert active == 1  # one of them, never both
    # the loser: refused by the last-admin lock (409) or the rule that a suspended member acts on
    # no one (403), or already signed out by the winner's suspension (302 to sign in)
    codes.remove(303)
    assert codes[0] in (302, 403, 409)


def test_a_full_role_is_given_once_when_two_administrators_give_it_at_once(two_admins):
    from tessera.access.services.roles import role_create

    tenant, admins, clients = two_admins
    role_create(tenant=tenant, slug="qa-lead", name="QA lead", max_members=1)
    people = [make_member(tenant, f"p{i}@acme.test") for i in range(2)]
    calls = (
        lambda c=c, p=p: c.post(f"/console/members/{p.user_id}/roles", {"role": "qa-lead"})
        for c, p in zip(clients, people, strict=True)
    )
    assert race(*calls) == [303, 409]
    assert RoleAssignment.objects.filter(role__slug="qa-lead", role__tenant=tenant).count() == 1
