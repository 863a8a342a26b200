"""The lookup a directory sends before every create (`userName eq "…"`, `externalId eq "…"`)
has its own prepared query (tessera.scim.lookup): it must answer byte for byte what the general
filter query answers, for every kind of member, and never cross the tenant boundary."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tessera.administration.service_accounts import service_account_create
from tessera.scim.tokens import scim_token_create
from tessera.tenancy.models import Membership
from tests.factories import make_member, make_tenant, make_user
from tests.scim.conftest import ENTERPRISE, ScimClient, patch_ops, user_payload


@pytest.fixture
def directory(scim, scim_tenant):
    """Members of every shape: written by the directory with all attributes, a manager and
    groups; suspended; invited; one the directory never wrote; and a service account."""
    boss = scim.post("/Users", user_payload("boss@example.com", externalId="00u-boss")).json()
    full = scim.post(
        "/Users",
        user_payload(
            "Full.Person@Example.com",
            externalId="00u-full",
            title="Lab lead",
            displayName="Full Person",
            phoneNumbers=[{"value": "+1 555 0100", "type": "work"}],
            **{
                ENTERPRISE: {
                    "department": "QA",
                    "employeeNumber": "E-1",
                    "costCenter": "CC-1",
                    "division": "Research",
                    "manager": {"value": boss["id"]},
                }
            },
        ),
    ).json()
    for name in ("Zeta", "Alpha"):
        group = scim.post("/Groups", {"displayName": name, "members": [{"value": full["id"]}]})
        assert group.status_code == 201, group.content
    suspended = scim.post("/Users", user_payload("off@example.com", externalId="00u-off")).json()
    assert (
        scim.patch(
            f"/Users/{suspended['id']}",
            patch_ops({"op": "replace", "path": "active", "value": False}),
        ).json()["active"]
        is False
    )
    make_member(make_tenant("globex"), "shared@example.com")
    scim.post("/Users", user_payload("shared@example.com", externalId="00u-shared"))  # invited
    native = make_user("native@example.com", first_name="Nat", last_name="Ive")
    make_member(scim_tenant, user=native)
    service_account_create(tenant=scim_tenant, name="ci robot", by=None)
    return scim


LOOKUPS = [
    'userName eq "full.person@example.com"',
    'userName eq "FULL.PERSON@EXAMPLE.COM"',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "full.person@example.com"',
    'externalId eq "00u-full"',
    'userName eq "boss@example.com"',
    'userName eq "off@example.com"',
    'externalId eq "00u-off"',
    'userName eq "shared@example.com"',
    'userName eq "native@example.com"',
    'userName eq "nobody@example.com"',
    'externalId eq "00U-FULL"',  # caseExact: nobody
    'externalId eq "nobody"',
    'userName eq ""',
]


@pytest.mark.parametrize("text", LOOKUPS)
@pytest.mark.parametrize("extra", [{}, {"count": "1"}, {"attributes": "userName,groups"}])
def test_the_lookup_answers_what_the_general_query_answers(directory, text, extra):
    fast = directory.get("/Users", {"filter": text, **extra})
    # `and userName pr` keeps the same matches but is not a single equality: the general query
    general = directory.get("/Users", {"filter": f"{text} and userName pr", **extra})
    assert fast.status_code == general.status_code == 200
    assert fast.content == general.content
    assert fast.json()["totalResults"] in (0, 1)


def test_the_lookup_shows_everything_a_read_shows(directory):
    listed = directory.get("/Users", {"filter": 'userName eq "full.person@example.com"'}).json()
    (found,) = listed["Resources"]
    read = directory.get(f"/Users/{found['id']}")
    assert found == read.json()
    assert [g["display"] for g in found["groups"]] == ["Zeta", "Alpha"]  # the groups' order
    (boss,) = directory.get("/Users", {"filter": 'userName eq "boss@example.com"'}).json()[
        "Resources"
    ]
    assert found[ENTERPRISE]["manager"] == {
        "value": boss["id"],
        "$ref": f"http://testserver/scim/v2/Users/{boss['id']}",
    }
    assert found[ENTERPRISE]["division"] == "Research"
    assert found["externalId"] == "00u-full"


def test_the_search_endpoint_takes_the_same_lookup(directory):
    body = {"filter": 'userName eq "full.person@example.com"', "startIndex": 1, "count": 10}
    searched = directory.post("/Users/.search", body)
    listed = directory.get("/Users", {"filter": body["filter"]})
    assert searched.status_code == 200
    assert searched.content == listed.content


def test_service_accounts_are_not_found(directory, scim_tenant):
    robot = Membership.objects.get(tenant=scim_tenant, user__is_service_account=True)
    found = directory.get("/Users", {"filter": f'userName eq "{robot.user.email}"'}).json()
    assert found["totalResults"] == 0


def test_another_tenants_token_finds_none_of_this_tenants_users(directory):
    other = make_tenant("initech")
    theirs = ScimClient(scim_token_create(tenant=other, name="Okta", by=None).raw)
    for text in LOOKUPS:
        answer = theirs.get("/Users", {"filter": text})
        assert answer.status_code == 200
        assert answer.json()["totalResults"] == 0, text


def test_a_change_shows_on_the_next_lookup(directory):
    text = 'userName eq "full.person@example.com"'
    (before,) = directory.get("/Users", {"filter": text}).json()["Resources"]
    directory.patch(
        f"/Users/{before['id']}", patch_ops({"op": "replace", "path": "title", "value": "Chief"})
    )
    (after,) = directory.get("/Users", {"filter": text}).json()["Resources"]
    assert after["title"] == "Chief"
    assert after["meta"]["version"] != before["meta"]["version"]


def test_a_lookup_is_one_query_and_one_more_for_groups(directory):
    """Past authentication, a lookup reads one row (and the groups only when there are some)."""
    directory.get("/Users", {"filter": 'userName eq "boss@example.com"'})  # warm: last_used_at
    for text, expected in (
        ('userName eq "boss@example.com"', 1),
        ('userName eq "full.person@example.com"', 2),
        ('userName eq "nobody@example.com"', 1),
    ):
        with CaptureQueriesContext(connection) as queries:
            answer = directory.get("/Users", {"filter": text})
        assert answer.status_code == 200
        lookups = [q["sql"] for q in queries.captured_queries if "scim_scimtoken" not in q["sql"]]
        assert len(lookups) == expected, lookups
