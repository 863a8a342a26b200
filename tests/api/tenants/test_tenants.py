"""/api/v1/tenants (platform administrators) and /api/v1/tenant (a tenant's own settings)."""

from __future__ import annotations

import pytest
from django.core import mail

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.authn.models import Session
from tessera.tenancy.models import Membership, Tenant
from tests.admin_api.test_revocation import make_session
from tests.api.conftest import Api


@pytest.fixture
def root(platform_admin):
    return Api(platform_admin)


def test_a_platform_admin_lists_creates_reads_updates_and_deactivates(
    world, root, django_capture_on_commit_callbacks
):
    assert [t["slug"] for t in root.get("/tenants").json()["items"]] == ["acme", "globex"]
    with django_capture_on_commit_callbacks(execute=True):
        response = root.post(
            "/tenants", {"slug": "initech", "name": "Initech", "admin_email": "boss@initech.test"}
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["admin"]["identity_created"] is True and body["admin"]["invited"] is True
    assert mail.outbox[0].to == ["boss@initech.test"]
    tenant_id = body["id"]
    roles = Tenant.objects.get(pk=tenant_id).roles.values_list("slug", flat=True)
    assert set(roles) == {"admin", "manager", "member", "viewer"}
    assert root.get(f"/tenants/{tenant_id}").json()["name"] == "Initech"
    response = root.patch(
        f"/tenants/{tenant_id}",
        {"name": "Initech Corp", "settings": {"lockout": {"max_failures": 3}}},
    )
    assert response.status_code == 200
    assert response.json()["settings"]["lockout"]["max_failures"] == 3
    assert root.delete(f"/tenants/{tenant_id}").status_code == 204
    assert Tenant.objects.get(pk=tenant_id).is_active is False


def test_a_first_admin_can_be_an_existing_identity(world, root):
    response = root.post(
        "/tenants", {"slug": "hooli", "name": "Hooli", "admin_email": "viewer@acme.test"}
    )
    assert response.status_code == 201
    assert response.json()["admin"] == {
        "id": str(world.viewer.user_id),
        "email": "viewer@acme.test",
        "identity_created": False,
        "invited": False,
    }
    assert Api(world.viewer.user, "hooli").get("/users").status_code == 200


@pytest.mark.parametrize("caller", ["admin", "manager", "viewer", "member", "outsider"])
def test_tenant_members_are_not_platform_admins(world, caller):
    client = Api(getattr(world, caller).user)
    assert client.get("/tenants").status_code == 403
    assert client.post("/tenants", {"slug": "x", "name": "X"}).status_code == 403
    assert client.get(f"/tenants/{world.acme.pk}").status_code == 403
    assert client.delete(f"/tenants/{world.acme.pk}").status_code == 403
    assert Tenant.objects.get(pk=world.acme.pk).is_active


def test_anonymous_is_401(world):
    assert Api().get("/tenants").status_code == 401


def test_bad_tenant_input(world, root):
    assert root.post("/tenants", {"slug": "acme", "name": "Again"}).status_code == 409
    response = root.post("/tenants", {"slug": "Bad Slug", "name": "X"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "slug"
    response = root.post("/tenants", {"slug": "ok", "name": "Ok", "admin_email": "nope"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "admin_email"
    assert not Tenant.objects.filter(slug="ok").exists()
    response = root.patch(
        f"/tenants/{world.acme.pk}", {"settings": {"password": {"min_length": 2}}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "settings.password.min_length"
    assert root.patch(f"/tenants/{world.acme.pk}", {"slug": "new"}).status_code == 422
    assert root.get("/tenants/5b6a3c49-8c1f-4b53-8f0e-3a0c3f1f0000").status_code == 404
    assert root.get("/tenants/garbage").status_code == 404


def test_deactivating_a_tenant_ends_every_session_and_stops_its_members(world, root):
    session = make_session(world.viewer)
    client = Api(world.viewer.user, "acme")
    assert client.get("/users").status_code == 200
    assert root.delete(f"/tenants/{world.acme.pk}").status_code == 204
    assert Session.objects.get(pk=session.pk).revoked_at is not None
    assert client.get("/users").status_code == 401  # their sessions ended with the tenant
    assert AuditEvent.objects.filter(type=AuditEventType.TENANT_DEACTIVATED).count() == 1
    assert root.patch(f"/tenants/{world.acme.pk}", {"is_active": True}).status_code == 200
    assert Api(world.viewer.user, "acme").get("/users").status_code == 200  # a new sign-in


# --- /tenant ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "read", "update"),
    [
        ("admin", 200, 200),
        ("manager", 200, 403),
        ("viewer", 200, 403),
        ("member", 200, 403),
        ("outsider", 403, 403),
    ],
)
def test_own_tenant_settings(world, caller, read, update):
    client = Api(getattr(world, caller).user, "acme")
    response = client.get("/tenant")
    assert response.status_code == read
    if read == 200:
        assert response.json()["settings"]["password"]["min_length"] == 15
    response = client.patch("/tenant", {"settings": {"sessions": {"max_sessions": 3}}})
    assert response.status_code == update
    expected = 3 if update == 200 else 5
    assert Tenant.objects.get(pk=world.acme.pk).settings["sessions"]["max_sessions"] == expected


def test_own_tenant_settings_are_validated(world):
    client = Api(world.admin.user, "acme")
    response = client.patch(
        "/tenant", {"settings": {"mfa": {"required": "sometimes"}, "lockout": {"max_failures": 0}}}
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"settings.mfa.required", "settings.lockout.max_failures"}
    assert client.patch("/tenant", {"is_active": False}).status_code == 422
    assert Membership.objects.filter(tenant=world.acme).count() == 4
