"""Races on PostgreSQL: a directory retrying a create, two writes to one group, two pushes of
one externalId — one wins, the other gets SCIM's 409, never a 500 or a duplicate."""

from __future__ import annotations

import pytest

from tessera.scim.models import ScimGroupMember, ScimUser
from tessera.scim.tokens import scim_token_create
from tessera.tenancy.models import Membership
from tests.api.test_concurrency import race
from tests.factories import make_member, make_tenant
from tests.scim.conftest import ScimClient, patch_ops, user_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clients():
    tenant = make_tenant("acme")
    make_member(tenant, "root@acme.test", roles=["admin"])
    raw = scim_token_create(tenant=tenant, name="Okta", by=None).raw
    return tenant, ScimClient(raw), ScimClient(raw)


def test_the_same_user_created_twice_at_once(clients):
    tenant, one, two = clients
    body = user_payload("race@example.com", externalId="00u-race")
    assert race(lambda: one.post("/Users", body), lambda: two.post("/Users", body)) == [201, 409]
    assert Membership.objects.filter(tenant=tenant, user__email="race@example.com").count() == 1
    assert ScimUser.objects.filter(external_id="00u-race").count() == 1


def test_one_external_id_pushed_for_two_people_at_once(clients):
    tenant, one, two = clients
    first = user_payload("first@example.com", externalId="00u-same")
    second = user_payload("second@example.com", externalId="00u-same")
    assert race(lambda: one.post("/Users", first), lambda: two.post("/Users", second)) == [
        201,
        409,
    ]
    assert (
        Membership.objects.filter(tenant=tenant, user__email__endswith="@example.com").count() == 1
    )


def test_concurrent_member_adds_to_one_group_keep_both(clients):
    _, one, two = clients
    a = one.post("/Users", user_payload("a@example.com")).json()["id"]
    b = one.post("/Users", user_payload("b@example.com")).json()["id"]
    group = one.post("/Groups", {"displayName": "G"}).json()["id"]

    def add(client, user_id):
        return lambda: client.patch(
            f"/Groups/{group}",
            patch_ops({"op": "add", "path": "members", "value": [{"value": user_id}]}),
        )

    assert race(add(one, a), add(two, b)) == [200, 200]
    assert ScimGroupMember.objects.filter(group_id=group).count() == 2
