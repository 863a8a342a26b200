"""/api/v1/users: allow and deny paths per role, guard rails, search, pagination, bulk import."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tessera.access.models import RoleAssignment
from tessera.authn.models import Session
from tessera.tenancy.models import Membership, MembershipStatus
from tests.access.helpers import allow, give, make_role
from tests.api.conftest import Api
from tests.factories import make_member

ROLES = ("admin", "manager", "viewer", "member")


def who(world, name):
    """An HTTP client for the named caller acting in acme (the outsider too: they try acme)."""
    return Api(getattr(world, name).user, "acme")


def codes(response):
    return {e["field"]: e["code"] for e in response.json().get("errors", [])}


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 200), ("manager", 200), ("viewer", 200), ("member", 200), ("outsider", 403)],
)
def test_listing_members(world, api, caller, status):
    assert who(world, caller).get("/users").status_code == status


def test_a_tenants_list_never_shows_another_tenants_members(world, api):
    emails = {u["email"] for u in api(world.outsider).get("/users").json()["items"]}
    assert emails == {"admin@globex.test"}


def test_anonymous_callers_get_401(world):
    response = Api(None, "acme").get("/users")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 201), ("manager", 201), ("viewer", 403), ("member", 403), ("outsider", 403)],
)
def test_creating_a_member(world, api, caller, status):
    response = who(world, caller).post(
        "/users", {"email": f"new-{caller}@acme.test", "roles": ["viewer"], "first_name": "N"}
    )
    assert response.status_code == status, response.json()
    if status == 201:
        body = response.json()
        assert body["email"] == f"new-{caller}@acme.test"
        assert body["roles"] == ["viewer"] and body["status"] == "active"
        assert "identity_created" not in body and "invited" not in body


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 200), ("manager", 200), ("viewer", 200), ("member", 200), ("outsider", 403)],
)
def test_reading_a_member(world, api, caller, status):
    response = who(world, caller).get(f"/users/{world.viewer.user_id}")
    assert response.status_code == status
    if status == 200:
        assert response.json()["roles"] == ["viewer"]


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 200), ("manager", 200), ("viewer", 403), ("member", 403), ("outsider", 403)],
)
def test_updating_a_member(world, api, caller, status):
    response = who(world, caller).patch(
        f"/users/{world.member.user_id}", {"job_title": "Lead", "clearance_level": 2}
    )
    assert response.status_code == status
    if status == 200:
        assert (response.json()["job_title"], response.json()["clearance_level"]) == ("Lead", 2)


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 204), ("manager", 403), ("viewer", 403), ("member", 403), ("outsider", 403)],
)
def test_removing_a_member(world, api, caller, status):
    assert who(world, caller).delete(f"/users/{world.member.user_id}").status_code == status
    assert Membership.objects.filter(pk=world.member.pk).exists() == (status != 204)


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 200), ("manager", 200), ("viewer", 403), ("member", 403), ("outsider", 403)],
)
def test_deactivating_and_reactivating(world, api, caller, status):
    client = who(world, caller)
    response = client.post(f"/users/{world.member.user_id}/deactivate")
    assert response.status_code == status
    if status == 200:
        assert response.json()["status"] == "suspended"
        again = client.post(f"/users/{world.member.user_id}/reactivate")
        assert again.json()["status"] == "active"
    else:
        assert client.post(f"/users/{world.member.user_id}/reactivate").status_code == status


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 200), ("manager", 200), ("viewer", 403), ("member", 403), ("outsider", 403)],
)
def test_assigning_roles(world, api, caller, status):
    response = who(world, caller).post(
        f"/users/{world.member.user_id}/roles", {"roles": ["viewer"]}
    )
    assert response.status_code == status
    if status == 200:
        assert response.json()["roles"] == ["member", "viewer"]


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 204), ("manager", 204), ("viewer", 403), ("member", 403), ("outsider", 403)],
)
def test_unassigning_a_role(world, api, caller, status):
    response = who(world, caller).delete(f"/users/{world.member.user_id}/roles/member")
    assert response.status_code == status


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 200), ("manager", 200), ("viewer", 200), ("member", 200), ("outsider", 403)],
)
def test_effective_permissions_with_their_source(world, api, caller, status):
    response = who(world, caller).get(f"/users/{world.viewer.user_id}/permissions")
    assert response.status_code == status
    if status == 200:
        entries = response.json()["permissions"]
        assert {e["permission"] for e in entries} >= {"user:read", "role:read"}
        assert entries[0]["source"]["kind"] == "role"
        assert entries[0]["source"]["path"] == ["viewer"]


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 200), ("manager", 200), ("viewer", 403), ("member", 403), ("outsider", 403)],
)
def test_setting_overrides(world, api, caller, status):
    rules = [{"effect": "deny", "permission": "user:read", "scope": "all"}]
    response = who(world, caller).put(f"/users/{world.member.user_id}/overrides", {"rules": rules})
    assert response.status_code == status
    if status == 200:
        assert response.json()["rules"][0]["effect"] == "deny"
        # the override applies on the member's very next request
        assert api(world.member).get("/users").status_code == 403


@pytest.mark.parametrize(
    ("caller", "status"),
    [("admin", 200), ("manager", 200), ("viewer", 403), ("member", 403), ("outsider", 403)],
)
def test_bulk_import(world, api, caller, status):
    response = who(world, caller).post("/users/bulk", {"users": [{"email": "b@acme.test"}]})
    assert response.status_code == status


# --- bad input ----------------------------------------------------------------------------------


def test_invalid_email_and_unknown_roles_are_listed_per_field(world, api):
    response = api(world.admin).post("/users", {"email": "not-an-email", "roles": ["ghost"]})
    assert response.status_code == 422
    assert codes(response) == {"email": "invalid", "roles[0]": "unknown"}


def test_an_existing_member_is_a_conflict(world, api):
    response = api(world.admin).post("/users", {"email": "VIEWER@acme.test"})
    assert response.status_code == 409


def test_a_member_of_another_tenant_is_only_invited(world, api):
    response = api(world.admin).post("/users", {"email": "admin@globex.test"})
    assert response.status_code == 201
    assert response.json()["status"] == "invited"
    assert response.json()["id"] == str(world.outsider.user_id)


def test_another_tenants_user_and_garbage_ids_are_404(world, api):
    client = api(world.admin)
    assert client.get(f"/users/{world.outsider.user_id}").status_code == 404
    assert client.get("/users/not-a-uuid").status_code == 404
    assert client.patch(f"/users/{world.outsider.user_id}", {"job_title": "x"}).status_code == 404


def test_patch_refuses_unknown_and_read_only_fields(world, api):
    response = api(world.admin).patch(f"/users/{world.member.user_id}", {"email": "x@y.test"})
    assert response.status_code == 422
    assert "email" in codes(response)


def test_a_bad_manager_is_refused(world, api):
    response = api(world.admin).patch(
        f"/users/{world.member.user_id}", {"manager_id": str(world.outsider.user_id)}
    )
    assert response.status_code == 422 and "manager_id" in codes(response)


# --- guard rails --------------------------------------------------------------------------------


def test_nobody_deactivates_or_removes_themselves(world, api):
    client = api(world.manager)
    assert client.post(f"/users/{world.manager.user_id}/deactivate").status_code == 409
    assert api(world.admin).delete(f"/users/{world.admin.user_id}").status_code == 409


def test_the_last_admin_cannot_be_removed_demoted_or_deactivated(world, api):
    other_admin = make_member(world.acme, "second@acme.test", roles=["admin"])
    client = api(other_admin)
    # two admins: one may go; then the remaining one is protected
    assert client.post(f"/users/{world.admin.user_id}/deactivate").status_code == 200
    # a manager is refused earlier (the admin outranks them); someone holding *:* through a
    # tenant role other than `admin` meets the last-admin rule
    response = api(world.manager).post(f"/users/{other_admin.user_id}/deactivate")
    assert response.status_code == 403 and response.json()["code"] == "target_outranks_you"
    root = make_member(world.acme, "root@acme.test", roles=[])
    give(root, make_role(world.acme, "root", allow("*:*")))
    response = api(root).post(f"/users/{other_admin.user_id}/deactivate")
    assert response.status_code == 409 and response.json()["code"] == "last_admin"
    assert client.delete(f"/users/{other_admin.user_id}/roles/admin").status_code == 409
    api(other_admin).post(f"/users/{world.admin.user_id}/reactivate")
    assert api(world.admin).delete(f"/users/{other_admin.user_id}").status_code == 204
    response = api(world.admin).delete(f"/users/{world.admin.user_id}/roles/admin")
    assert response.status_code == 409


def test_a_manager_cannot_give_or_take_what_they_do_not_hold(world, api):
    client = api(world.manager)
    response = client.post(f"/users/{world.member.user_id}/roles", {"roles": ["admin"]})
    assert response.status_code == 403 and response.json()["code"] == "not_held"
    response = client.post("/users", {"email": "x@acme.test", "roles": ["admin"]})
    assert response.status_code == 403
    assert client.delete(f"/users/{world.admin.user_id}/roles/admin").status_code == 403
    rules = [{"effect": "allow", "permission": "role:create", "scope": "all"}]
    response = client.put(f"/users/{world.member.user_id}/overrides", {"rules": rules})
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(membership=world.member, role__slug="admin").exists()


def test_deactivation_revokes_sessions_and_stops_the_next_request(world, api):
    from tests.admin_api.test_revocation import make_session

    session = make_session(world.member)
    client = api(world.member)
    assert client.get("/users").status_code == 200
    assert api(world.admin).post(f"/users/{world.member.user_id}/deactivate").status_code == 200
    assert Session.objects.get(pk=session.pk).revoked_at is not None
    assert client.get("/users").status_code == 401
    assert Membership.objects.get(pk=world.member.pk).status == MembershipStatus.SUSPENDED


def test_role_capacity_is_respected(world, api):
    api(world.admin).patch("/roles/viewer", {"max_members": 1})
    response = api(world.admin).post(f"/users/{world.member.user_id}/roles", {"roles": ["viewer"]})
    assert response.status_code == 409 and response.json()["code"] == "role_full"


# --- list: search, filters, pagination, query count --------------------------------------------


def test_search_filters_and_cursor_pagination(world, api):
    for i in range(5):
        make_member(world.acme, f"qa{i}@acme.test", roles=["viewer"], department="QA")
    client = api(world.admin)
    assert {u["email"] for u in client.get("/users", {"q": "QA3"}).json()["items"]} == {
        "qa3@acme.test"
    }
    qa = client.get("/users", {"department": "QA", "role": "viewer"}).json()["items"]
    assert len(qa) == 6  # the viewer and five more
    seen, cursor = [], None
    while True:
        page = client.get("/users", {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 9
    api(world.admin).post(f"/users/{world.member.user_id}/deactivate")
    suspended = client.get("/users", {"status": "suspended"}).json()["items"]
    assert [u["email"] for u in suspended] == ["member@acme.test"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 201}, "limit"), ({"cursor": "garbage"}, "cursor"), ({"status": "x"}, "status")],
)
def test_bad_list_parameters_are_422(world, api, params, field):
    response = api(world.admin).get("/users", params)
    assert response.status_code == 422 and field in codes(response)


def test_listing_costs_the_same_queries_for_5_or_60_members(
    world, api, django_assert_max_num_queries
):
    client = api(world.admin)
    client.get("/users")  # warm the caller's compiled policy
    with django_assert_max_num_queries(12) as few:
        assert client.get("/users", {"limit": 100}).status_code == 200
    baseline = len(few)  # now: the log is reset by the next request
    assert baseline <= 8, [q["sql"] for q in few.captured_queries]  # 2 of them are the page
    for i in range(55):
        make_member(world.acme, f"many{i}@acme.test", roles=["viewer", "member"])
    client.get("/users")
    with django_assert_max_num_queries(baseline):
        response = client.get("/users", {"limit": 100})
    assert len(response.json()["items"]) == 59


# --- bulk ---------------------------------------------------------------------------------------


def test_bulk_json_is_idempotent_by_email(world, api):
    client = api(world.admin)
    rows = [{"email": "j1@acme.test", "roles": ["viewer"]}, {"email": "j2@acme.test"}]
    first = client.post("/users/bulk", {"users": rows}).json()
    assert (first["created"], first["existing"], first["failed"]) == (2, 0, 0)
    again = client.post("/users/bulk", {"users": rows}).json()
    assert (again["created"], again["existing"]) == (0, 2)
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]


def test_bulk_csv_body_and_upload(world, api):
    client = api(world.admin)
    csv_text = "email,first_name,last_name,roles,department\nc1@acme.test,Cy,Ng,viewer;member,QA\n"
    response = client.post("/users/bulk", csv_text, content_type="text/csv")
    assert response.status_code == 200 and response.json()["created"] == 1
    upload = SimpleUploadedFile("users.csv", b"email\nc2@acme.test\nc1@acme.test\n", "text/csv")
    response = client.client.post("/api/v1/users/bulk", {"file": upload}, headers=client.headers)
    assert response.status_code == 200, response.json()
    assert [r["status"] for r in response.json()["results"]] == ["created", "exists"]
    created = client.get("/users", {"q": "c1@"}).json()["items"][0]
    assert created["roles"] == ["member", "viewer"] and created["department"] == "QA"


def test_bulk_bad_rows_and_oversize_are_refused_with_field_errors(world, api):
    client = api(world.admin)
    response = client.post("/users/bulk", {"users": [{"email": "ok@acme.test"}, {"email": "x"}]})
    assert response.status_code == 422 and "users[1].email" in codes(response)
    response = client.post("/users/bulk", "email,nope\na@acme.test,1\n", content_type="text/csv")
    assert response.status_code == 422 and "columns" in codes(response)
    response = client.post("/users/bulk", {"users": [{"email": "a@acme.test"}] * 1001})
    assert response.status_code == 422 and codes(response) == {"users": "too_many"}
    response = client.post("/users/bulk", "<xml/>", content_type="application/xml")
    assert response.status_code == 415
    assert not Membership.objects.filter(user__email="ok@acme.test").exists()


def test_expired_role_assignments_are_not_shown_or_matched(world, api):
    from datetime import timedelta

    from django.utils import timezone

    RoleAssignment.objects.filter(membership=world.viewer).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    client = api(world.admin)
    assert client.get(f"/users/{world.viewer.user_id}").json()["roles"] == []
    assert client.get("/users", {"role": "viewer"}).json()["items"] == []


def test_overlong_and_mistyped_fields_are_422_not_500(world, api):
    client = api(world.admin)
    response = client.post(
        "/users", {"email": "long@acme.test", "department": "x" * 121, "avatar_url": "ftp://x"}
    )
    assert response.status_code == 422
    assert codes(response) == {"department": "too_long", "avatar_url": "invalid"}
    response = client.post("/users/bulk", {"users": [{"email": "b@acme.test", "roles": [{}]}]})
    assert response.status_code == 422 and "users[0].roles" in codes(response)
    response = client.patch(f"/users/{world.member.user_id}", {"job_title": "y" * 121})
    assert response.status_code == 422
