"""PATCH (RFC 7644 §3.5.2) on Users and Groups: add, replace and remove, with and without a
path, value paths (`emails[type eq "work"].value`, `members[value eq "…"]`), several operations
in one request applied together, and what PATCH may not touch."""

from __future__ import annotations

import pytest

from tessera.tenancy.models import Membership
from tests.scim.conftest import ENTERPRISE, patch_ops, user_payload


@pytest.fixture
def user(scim):
    payload = user_payload(
        "pat@example.com",
        title="Chemist",
        emails=[
            {"value": "pat@example.com", "type": "work", "primary": True},
            {"value": "pat@home.example.com", "type": "home"},
        ],
        phoneNumbers=[{"value": "+1 555 0100", "type": "work"}],
    )
    return scim.post("/Users", payload).json()


def patched(scim, user, *operations, status=200):
    answer = scim.patch(f"/Users/{user['id']}", patch_ops(*operations))
    assert answer.status_code == status, answer.content
    return answer.json()


def test_replace_add_and_remove_simple_attributes(scim, user):
    body = patched(
        scim,
        user,
        {"op": "replace", "path": "title", "value": "Lead chemist"},
        {"op": "add", "path": "nickName", "value": "Pat"},
        {"op": "add", "path": f"{ENTERPRISE}:costCenter", "value": "CC-9"},
    )
    assert (body["title"], body["nickName"], body[ENTERPRISE]["costCenter"]) == (
        "Lead chemist",
        "Pat",
        "CC-9",
    )
    membership = Membership.objects.get(user_id=user["id"])
    assert (membership.job_title, membership.cost_center) == ("Lead chemist", "CC-9")
    body = patched(scim, user, {"op": "remove", "path": "title"})
    assert "title" not in body
    membership.refresh_from_db()
    assert membership.job_title == ""


def test_value_paths_select_the_entry(scim, user):
    body = patched(
        scim,
        user,
        {"op": "replace", "path": 'emails[type eq "home"].value', "value": "pat@new.example.com"},
    )
    emails = {e["type"]: e["value"] for e in body["emails"]}
    assert emails == {"work": "pat@example.com", "home": "pat@new.example.com"}
    body = patched(scim, user, {"op": "remove", "path": 'emails[type eq "home"]'})
    assert [e["type"] for e in body["emails"]] == ["work"]
    body = patched(
        scim, user, {"op": "replace", "path": 'phoneNumbers[type eq "work"].value', "value": "1"}
    )
    assert body["phoneNumbers"] == [{"value": "1", "type": "work"}]


def test_operations_without_a_path_merge_their_value(scim, user):
    body = patched(
        scim,
        user,
        {
            "op": "replace",
            "value": {"displayName": "Pat P.", f"{ENTERPRISE}:department": "Research"},
        },
    )
    assert body["displayName"] == "Pat P."
    assert body[ENTERPRISE]["department"] == "Research"
    found = scim.get("/Users", {"filter": 'displayName eq "pat p."'}).json()
    assert found["totalResults"] == 1


def test_a_failing_operation_changes_nothing(scim, user):
    answer = scim.patch(
        f"/Users/{user['id']}",
        patch_ops(
            {"op": "replace", "path": "title", "value": "Should not stay"},
            {"op": "replace", "path": "id", "value": "new-id"},
        ),
    )
    assert answer.status_code == 400
    assert answer.json()["scimType"] == "mutability"
    assert scim.get(f"/Users/{user['id']}").json()["title"] == "Chemist"


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
        ({"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}, "mutability"),
        ({"op": "add", "path": "groups", "value": [{"value": "x"}]}, "mutability"),
        ({"op": "remove"}, "noTarget"),
        ({"op": "replace", "path": "noSuchAttribute", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "emails[type eq", "value": "x"}, "invalidPath"),
        ({"op": "move", "path": "title", "value": "x"}, "invalidValue"),
        ({"op": "replace", "path": "active", "value": "maybe"}, "invalidValue"),
        ({"op": "add", "path": "userName", "value": "not an address"}, "invalidValue"),
    ],
)
def test_what_patch_may_not_do(scim, user, operation, scim_type):
    answer = scim.patch(f"/Users/{user['id']}", patch_ops(operation))
    assert answer.status_code == 400, answer.content
    assert answer.json()["scimType"] == scim_type


def test_group_members_add_and_remove_by_value_path(scim, user):
    other = scim.post("/Users", user_payload("sam@example.com")).json()
    group = scim.post("/Groups", {"displayName": "Chemists"}).json()
    path = f"/Groups/{group['id']}"
    added = scim.patch(
        path,
        patch_ops(
            {"op": "add", "path": "members", "value": [{"value": user["id"]}]},
            {"op": "add", "path": "members", "value": [{"value": other["id"]}]},
        ),
    ).json()
    assert {m["value"] for m in added["members"]} == {user["id"], other["id"]}
    removed = scim.patch(
        path, patch_ops({"op": "remove", "path": f'members[value eq "{user["id"]}"]'})
    ).json()
    assert [m["value"] for m in removed["members"]] == [other["id"]]
    cleared = scim.patch(path, patch_ops({"op": "remove", "path": "members"})).json()
    assert "members" not in cleared
    unknown = scim.patch(
        path,
        patch_ops(
            {
                "op": "add",
                "path": "members",
                "value": [{"value": "5e7a3b49-0000-4000-8000-000000000000"}],
            }
        ),
    )
    assert unknown.status_code == 400 and unknown.json()["scimType"] == "invalidValue"
