"""/scim/v2/Users: create, read, list with paging and attributes, replace, ETags, removal, and
the tenant boundary."""

from __future__ import annotations

from tessera.scim.tokens import scim_token_create
from tessera.tenancy.models import Invitation, Membership, MembershipStatus
from tests.factories import make_member, make_tenant
from tests.scim.conftest import ENTERPRISE, ScimClient, user_payload


def test_create_maps_the_enterprise_extension_to_membership_fields(scim, scim_tenant):
    boss = scim.post("/Users", user_payload("boss@example.com")).json()
    created = scim.post(
        "/Users",
        user_payload(
            "bjensen@example.com",
            externalId="00u1",
            title="Lab lead",
            **{
                ENTERPRISE: {
                    "department": "QA",
                    "employeeNumber": "E-42",
                    "costCenter": "CC-7",
                    "manager": {"value": boss["id"]},
                }
            },
        ),
    )
    assert created.status_code == 201
    body = created.json()
    assert created["Location"] == body["meta"]["location"]
    assert created["ETag"] == body["meta"]["version"]
    membership = Membership.objects.get(tenant=scim_tenant, user_id=body["id"])
    assert (membership.department, membership.employee_id, membership.cost_center) == (
        "QA",
        "E-42",
        "CC-7",
    )
    assert membership.job_title == "Lab lead"
    assert str(membership.manager.user_id) == boss["id"]
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.user.first_name == "Barbara"  # a new identity: the tenant's to manage
    assert body[ENTERPRISE]["manager"]["value"] == boss["id"]
    assert body["externalId"] == "00u1"


def test_an_existing_identity_elsewhere_is_invited_not_attached(scim, scim_tenant):
    elsewhere = make_tenant("globex")
    make_member(elsewhere, "shared@example.com")
    created = scim.post("/Users", user_payload("shared@example.com"))
    assert created.status_code == 201
    membership = Membership.objects.get(tenant=scim_tenant, user__email="shared@example.com")
    assert membership.status == MembershipStatus.INVITED
    assert Invitation.objects.filter(membership=membership, accepted_at__isnull=True).exists()
    assert membership.user.first_name == ""  # their profile is their own


def test_get_list_and_paging(scim, scim_tenant):
    for i in range(5):
        assert scim.post("/Users", user_payload(f"p{i}@example.com")).status_code == 201
    everyone = scim.get("/Users").json()
    assert everyone["totalResults"] == 6  # with the administrator made by the fixture
    page = scim.get("/Users", {"startIndex": "2", "count": "2"}).json()
    assert (page["startIndex"], page["itemsPerPage"], page["totalResults"]) == (2, 2, 6)
    assert [r["id"] for r in page["Resources"]] == [r["id"] for r in everyone["Resources"][1:3]]
    okta_probe = scim.get("/Users", {"startIndex": "1", "count": "0"}).json()
    assert okta_probe["totalResults"] == 6 and okta_probe["Resources"] == []
    past_the_end = scim.get("/Users", {"startIndex": "50"}).json()
    assert past_the_end["Resources"] == [] and past_the_end["totalResults"] == 6


def test_attributes_and_excluded_attributes(scim):
    scim.post("/Users", user_payload("a@example.com", title="T"))
    only = scim.get("/Users", {"attributes": "userName", "filter": 'userName eq "a@example.com"'})
    resource = only.json()["Resources"][0]
    assert set(resource) == {"schemas", "id", "userName"}  # id: returned "always"
    without = scim.get(
        "/Users", {"excludedAttributes": "emails,name", "filter": 'userName eq "a@example.com"'}
    ).json()["Resources"][0]
    assert "emails" not in without and "name" not in without and without["title"] == "T"


def test_put_replaces_and_if_match_guards_against_lost_updates(scim):
    created = scim.post("/Users", user_payload("c@example.com", title="Old")).json()
    path = f"/Users/{created['id']}"
    stale = created["meta"]["version"]
    body = {**created, "title": "New", "displayName": "C"}
    replaced = scim.put(path, body, HTTP_IF_MATCH=stale)
    assert replaced.status_code == 200
    assert replaced.json()["title"] == "New"
    assert replaced["ETag"] != stale
    again = scim.put(path, {**body, "title": "Lost"}, HTTP_IF_MATCH=stale)
    assert again.status_code == 412
    assert scim.get(path).json()["title"] == "New"
    assert scim.delete(path, HTTP_IF_MATCH=stale).status_code == 412
    assert scim.delete(path, HTTP_IF_MATCH=replaced["ETag"]).status_code == 204


def test_username_changes_only_for_an_identity_the_tenant_manages(scim):
    mine = scim.post("/Users", user_payload("old@example.com")).json()
    renamed = scim.put(f"/Users/{mine['id']}", {**mine, "userName": "new@example.com"})
    assert renamed.status_code == 200 and renamed.json()["userName"] == "new@example.com"
    make_member(make_tenant("globex"), "theirs@example.com")
    theirs = scim.post("/Users", user_payload("theirs@example.com")).json()
    refused = scim.put(f"/Users/{theirs['id']}", {**theirs, "userName": "stolen@example.com"})
    assert refused.status_code == 400
    assert refused.json()["scimType"] == "mutability"


def test_another_tenants_user_is_404_for_every_method(scim, scim_tenant):
    other = make_tenant("globex")
    outsider = make_member(other, "outsider@example.com")
    path = f"/Users/{outsider.user_id}"
    assert scim.get(path).status_code == 404
    assert scim.put(path, user_payload("outsider@example.com")).status_code == 404
    assert scim.patch(path, {"Operations": [{"op": "remove", "path": "title"}]}).status_code == 404
    assert scim.delete(path).status_code == 404
    assert Membership.objects.filter(pk=outsider.pk).exists()
    # and their own token sees none of acme
    theirs = ScimClient(scim_token_create(tenant=other, name="g", by=None).raw)
    listed = theirs.get("/Users", {"filter": 'userName eq "root@acme.test"'}).json()
    assert listed["totalResults"] == 0


def test_service_accounts_are_not_users_of_the_directory(scim, scim_tenant):
    from tessera.administration.service_accounts import service_account_create

    service_account_create(tenant=scim_tenant, name="ci robot", by=None)
    names = [u["userName"] for u in scim.get("/Users").json()["Resources"]]
    assert not any("service.tessera.invalid" in n for n in names)


def test_a_member_the_directory_never_wrote_is_shown_from_tessera(scim, scim_tenant):
    resource = scim.get("/Users", {"filter": 'userName eq "root@acme.test"'}).json()
    (root,) = resource["Resources"]
    assert root["active"] is True
    assert root["emails"] == [{"value": "root@acme.test", "type": "work", "primary": True}]


def test_groups_honour_if_match_too(scim):
    group = scim.post("/Groups", {"displayName": "Versioned"})
    stale = group["ETag"]
    path = f"/Groups/{group.json()['id']}"
    renamed = scim.patch(
        path,
        {"Operations": [{"op": "replace", "path": "displayName", "value": "V2"}]},
        HTTP_IF_MATCH=stale,
    )
    assert renamed.status_code == 200 and renamed["ETag"] != stale
    late = scim.put(path, {"displayName": "V3"}, HTTP_IF_MATCH=stale)
    assert late.status_code == 412
    assert scim.get(path).json()["displayName"] == "V2"
    assert scim.delete(path, HTTP_IF_MATCH="*").status_code == 204


def test_addresses_at_special_use_domains_are_provisioned_and_shaped_as_tessera_accepts_them(
    scim, scim_tenant
):
    # Active Directory forests often live at `corp.local`; Tessera's own validation takes it
    make_member(scim_tenant, "ann@corp.local")
    created = scim.post("/Users", user_payload("bob@lab.test"))
    assert created.status_code == 201, created.content

    for address in ("ann@corp.local", "bob@lab.test"):
        found = scim.get(
            "/Users", {"filter": f'userName eq "{address}"', "attributes": "userName,emails"}
        )
        assert found.status_code == 200, found.content
        (resource,) = found.json()["Resources"]
        assert resource["userName"] == address
        assert resource["emails"][0]["value"] == address
    listed = scim.get("/Users", {"attributes": "emails", "count": 10})
    assert listed.status_code == 200
