"""Okta's SCIM 2.0 client, request by request as Okta sends them (its SCIM 2.0 reference
walk-through): the connection test, the lookup before a create, the create with a password and
an empty `groups`, the PATCH of `active` without a path, and Group Push."""

from __future__ import annotations

import json

from django.utils import timezone

from tessera.access.selectors import membership_role_slugs
from tessera.directory.groups import group_mapping_set
from tessera.tenancy.models import Membership, MembershipStatus
from tests.scim.conftest import BASE, patch_ops

OKTA = {"HTTP_USER_AGENT": "Okta SCIM Client 1.0.0", "HTTP_ACCEPT": "application/scim+json"}
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

CREATE = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "test.user@example.com",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@example.com", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}


def _slugs(membership):
    return membership_role_slugs(membership_id=membership.pk, now=timezone.now())


def _okta_send(scim, method, path, body):
    return getattr(scim.client, method)(
        BASE + path,
        data=json.dumps(body),
        content_type="application/scim+json; charset=utf-8",
        **scim._headers(OKTA),
    )


def test_connection_test(scim):
    answer = scim.get("/Users", {"startIndex": "1", "count": "2"}, **OKTA)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/scim+json"
    body = answer.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert body["startIndex"] == 1 and body["itemsPerPage"] <= 2


def test_lookup_then_create_then_deactivate(scim, scim_tenant):
    lookup = scim.get(
        "/Users",
        {"filter": 'userName eq "test.user@example.com"', "startIndex": "1", "count": "100"},
        **OKTA,
    )
    assert lookup.json()["totalResults"] == 0 and lookup.json()["Resources"] == []
    created = _okta_send(scim, "post", "/Users", CREATE)
    assert created.status_code == 201, created.content
    user = created.json()
    assert "password" not in user  # never returned, never stored
    assert user["externalId"] == "00ujl29u0le5T6Aj10h7" and user["locale"] == "en-US"
    membership = Membership.objects.get(tenant=scim_tenant, user_id=user["id"])
    assert not membership.user.has_usable_password()
    found = scim.get(
        "/Users", {"filter": 'userName eq "test.user@example.com"', "startIndex": "1"}, **OKTA
    ).json()
    assert [r["id"] for r in found["Resources"]] == [user["id"]]
    again = _okta_send(scim, "post", "/Users", CREATE)
    assert again.status_code == 409 and again.json()["scimType"] == "uniqueness"
    # Okta's deactivation: replace without a path, `active` inside the value
    deactivated = _okta_send(
        scim,
        "patch",
        f"/Users/{user['id']}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.SUSPENDED
    # profile push is a PUT of the whole user
    put = _okta_send(
        scim,
        "put",
        f"/Users/{user['id']}",
        {**CREATE, "id": user["id"], "name": {"givenName": "Tess", "familyName": "User"}},
    )
    assert put.status_code == 200
    assert put.json()["name"]["givenName"] == "Tess" and put.json()["active"] is True


def test_group_push(scim, scim_tenant):
    from tessera.access.services.roles import role_create

    role_create(
        tenant=scim_tenant,
        slug="analyst",
        name="Analyst",
        rules=[{"effect": "allow", "permission": "sample:read", "scope": "all"}],
    )
    group_mapping_set(tenant=scim_tenant, mapping=[{"group": "Test SCIMv2", "roles": ["analyst"]}])
    one = _okta_send(scim, "post", "/Users", CREATE).json()
    two = _okta_send(
        scim,
        "post",
        "/Users",
        {
            **CREATE,
            "userName": "second@example.com",
            "externalId": "00u2",
            "emails": [{"primary": True, "value": "second@example.com", "type": "work"}],
        },
    ).json()
    pushed = _okta_send(
        scim,
        "post",
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Test SCIMv2",
            "members": [],
        },
    )
    assert pushed.status_code == 201
    group = pushed.json()
    path = f"/Groups/{group['id']}"
    added = _okta_send(
        scim,
        "patch",
        path,
        patch_ops(
            {
                "op": "add",
                "path": "members",
                "value": [
                    {"value": one["id"], "display": "test.user@example.com"},
                    {"value": two["id"], "display": "second@example.com"},
                ],
            }
        ),
    )
    assert added.status_code == 200
    assert {m["value"] for m in added.json()["members"]} == {one["id"], two["id"]}
    first = Membership.objects.get(tenant=scim_tenant, user_id=one["id"])
    assert "analyst" in _slugs(first)
    removed = _okta_send(
        scim,
        "patch",
        path,
        patch_ops({"op": "remove", "path": f'members[value eq "{one["id"]}"]'}),
    )
    assert [m["value"] for m in removed.json()["members"]] == [two["id"]]
    assert "analyst" not in _slugs(first)
    # Okta renames with a replace carrying the group's id
    renamed = _okta_send(
        scim,
        "patch",
        path,
        patch_ops({"op": "replace", "value": {"id": group["id"], "displayName": "Renamed"}}),
    )
    assert renamed.status_code == 200 and renamed.json()["displayName"] == "Renamed"
    second = Membership.objects.get(tenant=scim_tenant, user_id=two["id"])
    assert "analyst" not in _slugs(second)  # "Renamed" maps to nothing
    listed = scim.get(
        "/Groups", {"filter": 'displayName eq "Renamed"', "excludedAttributes": "members"}, **OKTA
    ).json()["Resources"]
    assert [g["id"] for g in listed] == [group["id"]] and "members" not in listed[0]
    assert scim.delete(path, **OKTA).status_code == 204
    assert scim.get(path).status_code == 404
