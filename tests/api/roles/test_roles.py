"""/api/v1/roles and /api/v1/permissions: per role, guard rails, validation, query counts."""

from __future__ import annotations

import pytest

from tessera.access.models import Role
from tessera.tenancy.models import Tenant
from tests.api.conftest import Api
from tests.factories import make_member

CALLERS = ("admin", "manager", "viewer", "member", "outsider")

EDITOR_RULES = [
    {"effect": "allow", "permission": "role:read", "scope": "all"},
    {"effect": "allow", "permission": "role:update", "scope": "all"},
    {"effect": "allow", "permission": "role:create", "scope": "all"},
]


def as_(world, name):
    return Api(getattr(world, name).user, "acme")


def allowed(caller, *who):
    return caller in who


@pytest.mark.parametrize("caller", CALLERS)
def test_reading_roles(world, caller):
    client = as_(world, caller)
    ok = allowed(caller, "admin", "manager", "viewer", "member")
    response = client.get("/roles")
    assert response.status_code == (200 if ok else 403)
    if ok:
        roles = {r["slug"]: r for r in response.json()["items"]}
        assert roles["admin"]["rules"] == [
            {
                "effect": "allow",
                "permission": "*:*",
                "scope": "all",
                "condition": None,
                "fields": {},
            }
        ]
        assert roles["viewer"]["is_system"] is True
    assert client.get("/roles/viewer").status_code == (200 if ok else 403)


@pytest.mark.parametrize("caller", CALLERS)
def test_creating_updating_and_deleting_roles(world, caller):
    client = as_(world, caller)
    ok = allowed(caller, "admin")
    body = {
        "slug": "auditor",
        "name": "Auditor",
        "parents": ["viewer"],
        "rules": [{"effect": "allow", "permission": "audit_log:read", "scope": "all"}],
        "ui_config": {"menu": {"audit": True}},
    }
    response = client.post("/roles", body)
    assert response.status_code == (201 if ok else 403)
    if not ok:
        Role.objects.create(tenant=world.acme, slug="auditor", name="Auditor")
    else:
        assert response.json()["parents"] == ["viewer"]
        assert response.json()["ui_config"] == {"menu": {"audit": True}}
    response = client.patch("/roles/auditor", {"description": "Reads the trail", "max_members": 3})
    assert response.status_code == (200 if ok else 403)
    assert client.delete("/roles/auditor").status_code == (204 if ok else 403)
    assert Role.objects.filter(tenant=world.acme, slug="auditor").exists() is not ok


def test_rule_changes_bump_the_tenant_policy_and_apply_at_once(world):
    client = as_(world, "admin")
    before = Tenant.objects.get(pk=world.acme.pk).policy_version
    assert as_(world, "viewer").get("/users").status_code == 200
    response = client.patch(
        "/roles/viewer", {"rules": [{"effect": "allow", "permission": "role:read", "scope": "all"}]}
    )
    assert response.status_code == 200
    assert Tenant.objects.get(pk=world.acme.pk).policy_version > before
    assert as_(world, "viewer").get("/users").status_code == 403


def test_no_escalation_through_role_editing(world):
    admin = as_(world, "admin")
    assert (
        admin.post(
            "/roles", {"slug": "editor", "name": "Editor", "rules": EDITOR_RULES}
        ).status_code
        == 201
    )
    editor = make_member(world.acme, "editor@acme.test", roles=["editor"])
    client = Api(editor.user, "acme")
    grab = EDITOR_RULES + [{"effect": "allow", "permission": "*:*", "scope": "all"}]
    response = client.patch("/roles/editor", {"rules": grab})
    assert response.status_code == 403 and response.json()["code"] == "not_held"
    response = client.patch("/roles/editor", {"parents": ["manager"]})
    assert response.status_code == 403
    response = client.post(
        "/roles",
        {
            "slug": "sneaky",
            "name": "S",
            "rules": [{"effect": "allow", "permission": "user:delete"}],
        },
    )
    assert response.status_code == 403
    assert Role.objects.get(tenant=world.acme, slug="editor").parents.count() == 0
    # what the editor holds may be written
    response = client.patch("/roles/editor", {"rules": EDITOR_RULES[:2] + EDITOR_RULES[2:]})
    assert response.status_code == 200


def test_bad_role_input(world):
    client = as_(world, "admin")
    assert client.post("/roles", {"slug": "viewer", "name": "Dup"}).status_code == 409
    response = client.post(
        "/roles",
        {
            "slug": "bad",
            "name": "Bad",
            "rules": [{"effect": "allow", "permission": "x:y", "condition": {"nope": []}}],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "rules[0].condition"
    response = client.post("/roles", {"slug": "bad", "name": "Bad", "parents": ["ghost"]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "parents"
    client.post("/roles", {"slug": "a", "name": "A", "parents": ["viewer"]})
    client.post("/roles", {"slug": "b", "name": "B", "parents": ["a"]})
    response = client.patch("/roles/a", {"parents": ["b"]})
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "cycle"
    assert client.delete("/roles/viewer").status_code == 409
    assert client.get("/roles/ghost").status_code == 404
    assert client.patch("/roles/admin", {"rules": []}).status_code == 409


def test_listing_roles_costs_the_same_queries_for_4_or_24_roles(
    world, django_assert_max_num_queries
):
    client = as_(world, "admin")
    client.get("/roles")
    with django_assert_max_num_queries(20) as few:
        assert client.get("/roles").status_code == 200
    baseline = len(few)
    for i in range(20):
        rules = [{"effect": "allow", "permission": f"doc{i}:read", "scope": "all"}]
        client.post(
            "/roles", {"slug": f"r{i}", "name": f"R{i}", "rules": rules, "parents": ["viewer"]}
        )
    client.get("/roles")
    with django_assert_max_num_queries(baseline):
        assert len(client.get("/roles", {"limit": 100}).json()["items"]) == 24


# --- permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
def test_the_permission_catalog(world, caller):
    client = as_(world, caller)
    ok_read = allowed(caller, "admin", "manager", "viewer", "member")
    response = client.get("/permissions")
    assert response.status_code == (200 if ok_read else 403)
    if ok_read:
        names = {p["permission"]: p for p in response.json()["items"]}
        assert names["user:create"]["is_system"] is True
    response = client.post("/permissions", {"permission": "sample:approve", "description": "QA"})
    assert response.status_code == (201 if caller == "admin" else 403)


def test_tenant_permissions_are_validated_and_private(world):
    client = as_(world, "admin")
    assert client.post("/permissions", {"permission": "sample:approve"}).status_code == 201
    assert client.post("/permissions", {"permission": "sample:approve"}).status_code == 409
    assert client.post("/permissions", {"permission": "user:create"}).status_code == 409
    response = client.post("/permissions", {"permission": "Not Valid"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "permission"
    mine = {p["permission"] for p in client.get("/permissions").json()["items"]}
    theirs = {
        p["permission"]
        for p in Api(world.outsider.user, "globex").get("/permissions").json()["items"]
    }
    assert "sample:approve" in mine and "sample:approve" not in theirs
