"""The member search `GET /api/v1/users?q=` (plain-row page) and its keyset pages.

What a caller sees must not change with the lean read: the same people for a term, each shown
exactly as `GET /users/{id}` shows them, and pages that walk every member once.
"""

from __future__ import annotations

import pytest

from tessera.tenancy.models import MembershipStatus
from tests.factories import make_member, make_user


def emails(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {u["email"] for u in response.json()["items"]}


def person(tenant, email, first="", last="", **fields):
    """A member whose identity this tenant created (so manages), with the given names."""
    user = make_user(email, first_name=first, last_name=last, managed_by_tenant=tenant)
    return make_member(tenant, user=user, **fields)


@pytest.fixture
def people(world):
    """Smiths and others in acme, a Smith in globex, an invited Smith (by name only)."""
    person(world.acme, "jo.smith@acme.test", "Jo", "Smith")
    person(world.acme, "ann@acme.test", "Ann", "SMITHSON")
    person(world.acme, "bob@acme.test", "Smithy", "Berg")
    person(world.acme, "carla@acme.test", "Carla", "Costa")
    person(world.acme, "MIXED.Case@acme.test", "Mia", "Olsen")
    person(world.globex, "smith@globex.test", "Gil", "Smith")
    invited = make_user("dana@elsewhere.test", first_name="Dana", last_name="Smith")
    make_member(world.acme, user=invited, roles=[], status=MembershipStatus.INVITED)
    return world


def test_q_finds_names_and_emails_in_any_case(people, api):
    client = api(people.admin)
    smiths = {"jo.smith@acme.test", "ann@acme.test", "bob@acme.test"}
    assert emails(client.get("/users", {"q": "smith"})) == smiths
    assert emails(client.get("/users", {"q": "SmItH"})) == smiths
    assert emails(client.get("/users", {"q": "  smith  "})) == smiths
    assert emails(client.get("/users", {"q": "mixed.case"})) == {"mixed.case@acme.test"}
    assert emails(client.get("/users", {"q": "costa"})) == {"carla@acme.test"}
    assert emails(client.get("/users", {"q": "nobody-at-all"})) == set()


def test_q_never_finds_another_tenants_member(people, api):
    assert "smith@globex.test" not in emails(api(people.admin).get("/users", {"q": "smith"}))
    assert emails(api(people.outsider).get("/users", {"q": "smith"})) == {"smith@globex.test"}
    assert emails(api(people.outsider).get("/users", {"q": "acme"})) == set()


def test_an_invited_person_is_found_by_email_but_not_by_name(people, api):
    client = api(people.admin)
    assert "dana@elsewhere.test" not in emails(client.get("/users", {"q": "smith"}))
    found = client.get("/users", {"q": "ELSEWHERE"}).json()["items"]
    assert [(u["email"], u["first_name"], u["full_name"]) for u in found] == [
        ("dana@elsewhere.test", "", "")
    ]


@pytest.mark.parametrize("q", ["x" * 101, "é" * 101])
def test_a_term_over_100_characters_is_422(world, api, q):
    response = api(world.admin).get("/users", {"q": q})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["q"]


def test_each_listed_member_is_shown_as_get_shows_them(people, api):
    """The list's rows are built from columns, the single member from models: same answer."""
    client = api(people.admin)
    boss = people.manager
    make_member(people.acme, "report@acme.test", roles=["viewer", "member"], manager=boss)
    # managed here and active, but a platform administrator: never editable by the tenant
    platform = make_user("ops@platform.test", is_platform_admin=True, managed_by_tenant=people.acme)
    make_member(people.acme, user=platform, roles=["viewer"])
    client.post(f"/users/{people.member.user_id}/deactivate")
    listed = client.get("/users", {"limit": 200}).json()["items"]
    assert len(listed) >= 10
    for item in listed:
        assert item == client.get(f"/users/{item['id']}").json(), item["email"]
    report = next(u for u in listed if u["email"] == "report@acme.test")
    assert report["manager_id"] == str(boss.user_id)
    assert report["roles"] == ["member", "viewer"]
    ops = next(u for u in listed if u["email"] == "ops@platform.test")
    assert ops["profile_editable"] is False and report["profile_editable"] is True


@pytest.mark.parametrize("q", ["%", "_", "\\"])
def test_like_wildcards_in_q_match_only_themselves(world, api, q):
    assert emails(api(world.admin).get("/users", {"q": q})) == set()


def _walk(client, params, *, between=None) -> list[str]:
    seen, cursor, pages = [], None, 0
    while True:
        page = client.get("/users", {**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.content
        body = page.json()
        seen += [u["email"] for u in body["items"]]
        cursor, pages = body["next_cursor"], pages + 1
        if between is not None:
            between(pages)
        if not cursor:
            return seen


def test_pages_walk_every_member_once_while_members_are_added(world, api):
    for i in range(17):
        person(world.acme, f"walker{i:02}@acme.test", "Walker")
    client = api(world.admin)
    before = _walk(client, {"limit": 4})
    added: list[str] = []

    def join(page: int) -> None:  # someone joins while the caller pages
        added.append(f"late{len(added)}-{page}@acme.test")
        person(world.acme, added[-1], "Walker")

    during = _walk(client, {"limit": 4}, between=join)
    assert len(during) == len(set(during)), "a member showed twice"
    assert during[: len(before)] == before, "an existing member was skipped or moved"
    assert set(during[len(before) :]) <= set(added)  # the late ones, oldest first, at the end
    searched = _walk(client, {"limit": 3, "q": "walker"}, between=join)
    assert len(searched) == len(set(searched))
    assert {f"walker{i:02}@acme.test" for i in range(17)} <= set(searched)
    assert set(searched) <= {f"walker{i:02}@acme.test" for i in range(17)} | set(added)


def test_a_page_costs_the_same_queries_with_a_search(world, api, django_assert_max_num_queries):
    client = api(world.admin)
    client.get("/users", {"q": "acme"})  # warm the caller's compiled policy
    with django_assert_max_num_queries(12) as few:
        client.get("/users", {"q": "acme"})
    baseline = len(few)
    for i in range(30):
        make_member(world.acme, f"many{i}@acme.test", roles=["viewer", "member"])
    client.get("/users", {"q": "acme"})
    with django_assert_max_num_queries(baseline):
        assert len(client.get("/users", {"q": "many", "limit": 100}).json()["items"]) == 30
