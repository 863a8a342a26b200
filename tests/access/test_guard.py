"""`@requires`: Tessera's own endpoints guarded through the engine, with 401/403 problem+json."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tessera.access.bridge.guard import authorize, is_allowed, requires
from tessera.access.services.overrides import overrides_set
from tessera.authn.principal import Principal
from tessera.errors import NotAuthenticated, PermissionDenied
from tessera.testing import api_session_login
from tests.access.helpers import allow, deny, give, make_role
from tests.factories import make_member, make_tenant, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.access.guard_urls")]

USERS = "/guarded/users"


def post(client, body, tenant="acme"):
    headers = {"X-Tenant": tenant} if tenant else {}
    return client.post(USERS, body, content_type="application/json", headers=headers)


def test_an_allowed_caller_reaches_the_view(client, tenant):
    api_session_login(client, make_member(tenant, roles=["manager"]).user)
    r = post(client, {"email": "new@example.test"})
    assert r.status_code == 200, r.content
    assert r.json() == {"created": "new@example.test", "may_delete": False}


def test_the_view_keeps_its_body_schema(client, tenant):
    api_session_login(client, make_member(tenant, roles=["admin"]).user)
    r = post(client, {"wrong": 1})
    assert r.status_code == 422


def test_without_credentials_the_answer_is_401(client, tenant):
    r = post(client, {"email": "x@example.test"})
    assert r.status_code == 401
    assert r["Content-Type"] == "application/problem+json"


def test_without_a_tenant_the_answer_is_403(client, tenant):
    member = make_member(tenant, roles=["admin"])
    make_member(make_tenant("globex"), user=member.user)  # two tenants: a tenant-less session
    api_session_login(client, member.user)
    r = post(client, {"email": "x@example.test"}, tenant=None)
    assert r.status_code == 403
    assert r.json()["code"] == "tenant_required"


def test_a_denied_caller_gets_403_problem_json(client, tenant):
    api_session_login(client, make_member(tenant, roles=["viewer"]).user)
    r = post(client, {"email": "x@example.test"})
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    assert "user:create" in r.json()["detail"]


def test_a_revoked_permission_is_denied_on_the_very_next_request(client, tenant):
    member = make_member(tenant, roles=["manager"])
    api_session_login(client, member.user)
    assert post(client, {"email": "a@example.test"}).status_code == 200
    overrides_set(membership=member, rules=[deny("user:create")])
    assert post(client, {"email": "b@example.test"}).status_code == 403


def test_platform_administrators_get_nothing_without_a_membership_role(client, tenant):
    root = make_user("root@example.test", is_platform_admin=True)
    api_session_login(client, root)
    assert post(client, {"email": "x@example.test"}).status_code == 403
    make_member(tenant, user=root, roles=["viewer"])
    api_session_login(client, root, tenant)
    assert post(client, {"email": "x@example.test"}).status_code == 403


def test_a_resource_getter_lets_scoped_rules_decide(client, tenant):
    role = make_role(tenant, "self-service", allow("user:update", scope="own"))
    member = make_member(tenant, roles=[])
    give(member, role)
    api_session_login(client, member.user)
    headers = {"X-Tenant": "acme"}
    assert client.get(f"/guarded/users/{member.user_id}", headers=headers).status_code == 200
    assert client.get("/guarded/users/someone-else", headers=headers).status_code == 403


def test_async_views_are_guarded_too(client, tenant):
    api_session_login(client, make_member(tenant, roles=[]).user)
    assert client.get("/guarded/async-roles", headers={"X-Tenant": "acme"}).status_code == 403
    api_session_login(client, make_member(tenant, roles=["viewer"]).user)
    assert client.get("/guarded/async-roles", headers={"X-Tenant": "acme"}).status_code == 200


def _request(member, **principal):
    request = RequestFactory().get("/")
    request.principal = Principal(user=member.user, auth_method="api_key", **principal)
    request.membership = member
    request.tenant = member.tenant
    return request


def test_api_key_scopes_narrow_what_the_owner_may_do(tenant):
    admin = make_member(tenant, roles=["admin"])
    scoped = _request(admin, scopes=frozenset({"user:read", "role:*"}))
    assert is_allowed(scoped, "user:read") and is_allowed(scoped, "role:delete")
    assert not is_allowed(scoped, "user:create")
    with pytest.raises(PermissionDenied) as err:
        authorize(scoped, "user:create")
    assert err.value.code == "api_key_scope"
    # scopes never add: a viewer's key scoped to everything still cannot create users
    viewer = _request(make_member(tenant, roles=["viewer"]), scopes=frozenset({"*:*"}))
    assert not is_allowed(viewer, "user:create") and is_allowed(viewer, "user:read")
    assert is_allowed(_request(admin, scopes=None), "user:create")


def test_the_principals_versions_are_used_when_present(tenant):
    member = make_member(tenant, roles=["viewer"])
    stale = _request(member, membership_id=member.pk, tenant_version=1, membership_version=1)
    # versions (1, 1) name a policy compiled from today's data: the data is what counts
    assert is_allowed(stale, "user:read")


def test_a_principal_that_must_change_its_password_is_refused(tenant):
    admin = make_member(tenant, roles=["admin"])
    request = _request(admin, password_change_required=True)
    with pytest.raises(PermissionDenied) as err:
        authorize(request, "user:read")
    assert err.value.code == "password_change_required"


def test_is_allowed_never_raises(tenant):
    request = RequestFactory().get("/")
    assert is_allowed(request, "user:read") is False
    request.principal = None
    with pytest.raises(NotAuthenticated):
        authorize(request, "user:read")
    member = make_member(tenant, roles=["admin"])
    assert is_allowed(_request(member), "not an action") is False
    assert is_allowed(_request(member), "user:read") is True


def test_requires_refuses_permissions_outside_the_catalog():
    with pytest.raises(ValueError):
        requires("spaceship:launch")
    with pytest.raises(Exception):  # noqa: B017
        requires("user")


def test_guarded_views_say_what_they_require():
    from tests.access import guard_urls

    assert guard_urls.create_user.required_permission == "user:create"
