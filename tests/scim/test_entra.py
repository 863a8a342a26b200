"""Microsoft Entra ID's provisioning service, request by request as its SCIM reference shows
them: lookups by userName, externalId and `emails[type eq "work"].value`, a create carrying
`meta` and `roles`, PATCH with `op` in capitals and string booleans ("False"), the manager as a
bare id, soft delete by `active`, and groups changed only by PATCH (`$ref: null`, remove with a
value) and read with `excludedAttributes=members`."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tessera.access.selectors import membership_role_slugs
from tessera.directory.groups import group_mapping_set
from tessera.tenancy.models import Membership, MembershipStatus
from tests.scim.conftest import ENTERPRISE

ENTRA = {"HTTP_USER_AGENT": "Azure AD SCIM Client"}
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _slugs(membership):
    return membership_role_slugs(membership_id=membership.pk, now=timezone.now())


def entra_user(email: str, external_id: str) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": external_id,
        "userName": email,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": email}],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": "givenName familyName",
            "familyName": "familyName",
            "givenName": "givenName",
        },
        "roles": [],
        ENTERPRISE: {"department": "Sales", "employeeNumber": "701"},
    }


def ops(*operations) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


@pytest.fixture
def created(scim):
    answer = scim.post("/Users", entra_user("ttaylor@example.com", "0a21f0f2-8d2a-4f8e"), **ENTRA)
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_lookups_entra_sends(scim, created):
    for text in (
        'userName eq "ttaylor@example.com"',
        'externalId eq "0a21f0f2-8d2a-4f8e"',
        'emails[type eq "work"].value eq "TTaylor@example.com"',
    ):
        found = scim.get("/Users", {"filter": text}, **ENTRA).json()
        assert [r["id"] for r in found["Resources"]] == [created["id"]], text
    # the connection test asks for a user that does not exist
    nobody = scim.get("/Users", {"filter": 'userName eq "non-existent@example.com"'}, **ENTRA)
    assert nobody.status_code == 200 and nobody.json()["totalResults"] == 0
    assert scim.get(f"/Users/{created['id'][:-1]}0", **ENTRA).status_code in (200, 404)


def test_update_with_capitalised_ops_and_value_paths(scim, created):
    path = f"/Users/{created['id']}"
    answer = scim.patch(
        path,
        ops(
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "updated@example.com",
            },
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Marketing"},
        ),
        **ENTRA,
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["emails"][0]["value"] == "updated@example.com"
    assert body["name"]["familyName"] == "updatedFamilyName"
    assert body[ENTERPRISE]["department"] == "Marketing"
    assert Membership.objects.get(user_id=created["id"]).department == "Marketing"
    found = scim.get("/Users", {"filter": 'emails[type eq "work"].value eq "updated@example.com"'})
    assert found.json()["totalResults"] == 1


def test_manager_as_a_bare_id_and_its_removal(scim, created, scim_tenant):
    boss_payload = entra_user("boss@example.com", "b-1")
    boss_payload[ENTERPRISE]["employeeNumber"] = "702"  # unique in the tenant
    boss = scim.post("/Users", boss_payload, **ENTRA).json()
    path = f"/Users/{created['id']}"
    added = scim.patch(
        path, ops({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss["id"]}), **ENTRA
    )
    assert added.status_code == 200, added.content
    assert added.json()[ENTERPRISE]["manager"]["value"] == boss["id"]
    membership = Membership.objects.get(tenant=scim_tenant, user_id=created["id"])
    assert str(membership.manager.user_id) == boss["id"]
    removed = scim.patch(path, ops({"op": "Remove", "path": f"{ENTERPRISE}:manager"}), **ENTRA)
    assert "manager" not in removed.json()[ENTERPRISE]
    membership.refresh_from_db()
    assert membership.manager_id is None


@pytest.mark.parametrize("value", ["False", False, "false"])
def test_soft_delete_with_string_booleans(scim, created, value):
    path = f"/Users/{created['id']}"
    answer = scim.patch(path, ops({"op": "Replace", "path": "active", "value": value}), **ENTRA)
    assert answer.status_code == 200, answer.content
    assert answer.json()["active"] is False
    assert Membership.objects.get(user_id=created["id"]).status == MembershipStatus.SUSPENDED
    back = scim.patch(path, ops({"op": "Replace", "path": "active", "value": "True"}), **ENTRA)
    assert back.json()["active"] is True


def test_groups_change_only_by_patch(scim, created, scim_tenant):
    from tessera.access.services.roles import role_create

    role_create(
        tenant=scim_tenant,
        slug="sales",
        name="Sales",
        rules=[{"effect": "allow", "permission": "lead:read", "scope": "all"}],
    )
    group_mapping_set(tenant=scim_tenant, mapping=[{"group": "Sales EMEA", "roles": ["sales"]}])
    group = scim.post(
        "/Groups",
        {
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Sales EMEA",
            "meta": {"resourceType": "Group"},
            "members": [],
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        },
        **ENTRA,
    )
    assert group.status_code == 201, group.content
    group_id = group.json()["id"]
    lookup = scim.get(
        "/Groups",
        {"excludedAttributes": "members", "filter": 'displayName eq "Sales EMEA"'},
        **ENTRA,
    ).json()
    assert [g["id"] for g in lookup["Resources"]] == [group_id]
    path = f"/Groups/{group_id}"
    member = [{"$ref": None, "value": created["id"]}]
    added = scim.patch(path, ops({"op": "Add", "path": "members", "value": member}), **ENTRA)
    assert added.status_code == 200, added.content
    membership = Membership.objects.get(tenant=scim_tenant, user_id=created["id"])
    assert "sales" in _slugs(membership)
    read = scim.get(path, {"excludedAttributes": "members"}, **ENTRA).json()
    assert "members" not in read and read["displayName"] == "Sales EMEA"
    renamed = scim.patch(
        path, ops({"op": "Replace", "path": "displayName", "value": "Sales Europe"}), **ENTRA
    )
    assert renamed.json()["displayName"] == "Sales Europe"
    assert "sales" not in _slugs(membership)
    scim.patch(path, ops({"op": "Replace", "path": "displayName", "value": "Sales EMEA"}), **ENTRA)
    assert "sales" in _slugs(membership)
    gone = scim.patch(path, ops({"op": "Remove", "path": "members", "value": member}), **ENTRA)
    assert gone.status_code == 200, gone.content
    assert "members" not in gone.json()
    assert "sales" not in _slugs(membership)


def test_hard_delete(scim, created):
    assert scim.delete(f"/Users/{created['id']}", **ENTRA).status_code == 204
    assert scim.get(f"/Users/{created['id']}", **ENTRA).status_code == 404
