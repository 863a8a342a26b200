"""Filters on /Users and /Groups (RFC 7644 §3.4.2.2): each operator, logic and grouping, the
attributes directories filter on, refused filters — and a property test: for any filter a
grammar over those attributes builds, the database query selects exactly the users that
scim2-models' own evaluator (`ScimFilter.match`) accepts on the served resources."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scim2_models import SCIMException, ScimFilter

from tessera.scim.resources import ScimUserModel
from tessera.tenancy.models import Membership
from tests.scim.conftest import ENTERPRISE, user_payload

PEOPLE = [
    ("ada@example.com", "A-1", "Ada Lovelace", "Analyst", True, "work", "QA"),
    ("Bob@Example.com", "b-2", "Bob Smith", "Chemist", False, "home", "Lab"),
    ("carol@lab.example.com", "C-3", "Carol Danvers", "", True, "work", "Lab"),
    ("dave@example.org", "d-4", "dave", "Analyst II", True, "other", ""),
]


@pytest.fixture
def people(scim):
    ids = {}
    for email, external_id, display, title, active, kind, department in PEOPLE:
        payload = user_payload(
            email,
            externalId=external_id,
            displayName=display,
            active=active,
            emails=[{"value": email, "type": kind, "primary": True}],
        )
        if title:
            payload["title"] = title
        if department:
            payload[ENTERPRISE] = {"department": department}
        answer = scim.post("/Users", payload)
        assert answer.status_code == 201, answer.content
        ids[email.lower()] = answer.json()["id"]
    return ids


def found(scim, text, path="/Users"):
    answer = scim.get(path, {"filter": text, "count": "200"})
    assert answer.status_code == 200, answer.content
    return {r.get("userName") or r.get("displayName") for r in answer.json()["Resources"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "BOB@example.com"', {"bob@example.com"}),
        (
            'userName ne "bob@example.com" and externalId pr',
            {"ada@example.com", "carol@lab.example.com", "dave@example.org"},
        ),
        ('userName co "lab"', {"carol@lab.example.com"}),
        ('userName sw "DA"', {"dave@example.org"}),
        ('userName ew ".org"', {"dave@example.org"}),
        ('externalId eq "A-1"', {"ada@example.com"}),
        ('externalId eq "a-1"', set()),  # caseExact
        ('displayName co "SMITH"', {"bob@example.com"}),
        ("active eq false", {"bob@example.com"}),
        ('emails.value eq "carol@lab.example.com"', {"carol@lab.example.com"}),
        (
            'emails[type eq "work"].value co "example.com"',
            {"ada@example.com", "carol@lab.example.com"},
        ),
        ('emails[type eq "home" and value sw "bob"]', {"bob@example.com"}),
        ('title pr and not (title sw "analyst ii")', {"ada@example.com", "bob@example.com"}),
        ('(userName sw "a" or userName sw "b") and active eq true', {"ada@example.com"}),
        (f'{ENTERPRISE}:department eq "lab"', {"bob@example.com", "carol@lab.example.com"}),
        ('userName Eq "ada@example.com"', {"ada@example.com"}),
    ],
)
def test_operators_logic_and_attributes(scim, people, text, expected):
    assert found(scim, text) & set(people) == expected


def test_dates_compare_on_meta_last_modified(scim, people):
    ada = Membership.objects.get(user_id=people["ada@example.com"])
    past = timezone.now() - timedelta(days=3)
    Membership.objects.filter(pk=ada.pk).update(updated_at=past)
    cut = (past + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert found(scim, f'meta.lastModified lt "{cut}"') & set(people) == {"ada@example.com"}
    assert "ada@example.com" not in found(scim, f'meta.lastModified ge "{cut}"')
    assert found(scim, f'meta.lastModified gt "{cut}" and userName sw "bob"') == {"bob@example.com"}


@pytest.mark.parametrize(
    ("text", "scim_type"),
    [
        ("userName eq", "invalidFilter"),
        ('userName xx "a"', "invalidFilter"),
        ('(userName eq "a"', "invalidFilter"),
        ('nickName eq "a"', "invalidFilter"),  # a real attribute Tessera cannot filter on
        ('noSuchAttribute eq "a"', "invalidFilter"),
        ("active gt true", "invalidFilter"),
        ('meta.lastModified gt "yesterday"', "invalidFilter"),
        ("x" * 2001, "invalidFilter"),
    ],
)
def test_invalid_or_unsupported_filters_are_refused(scim, people, text, scim_type):
    answer = scim.get("/Users", {"filter": text})
    assert answer.status_code == 400
    assert answer.json()["scimType"] == scim_type


def test_group_filters(scim, people):
    for name, members in (("Lab Staff", ["bob@example.com"]), ("QA", ["ada@example.com"])):
        scim.post(
            "/Groups",
            {"displayName": name, "members": [{"value": people[m]} for m in members]},
        )
    assert found(scim, 'displayName eq "lab staff"', "/Groups") == {"Lab Staff"}
    by_member = f'members[value eq "{people["ada@example.com"]}"]'
    assert found(scim, by_member, "/Groups") == {"QA"}
    assert found(scim, 'displayName sw "L" or displayName eq "QA"', "/Groups") == {
        "Lab Staff",
        "QA",
    }


# --- the property: database query == scim2-models' evaluator ---------------------------------

_STRING_ATTRS = ["userName", "externalId", "displayName", "title", "emails.value", "emails.type"]
_WORDS = ["a", "b", "ada", "bob", "example", ".com", "lab", "A-1", "b-2", "analyst", "work", "x"]

comparison = st.builds(
    lambda attr, op, value: f'{attr} {op} "{value}"',
    st.sampled_from(_STRING_ATTRS),
    st.sampled_from(["eq", "ne", "co", "sw", "ew"]),
    st.sampled_from(_WORDS),
)
ordering = st.builds(
    lambda op, value: f'userName {op} "{value}"',
    st.sampled_from(["gt", "ge", "lt", "le"]),
    st.sampled_from(["b", "bob@example.com", "c", "dave"]),
)
leaf = st.one_of(
    comparison,
    ordering,
    st.sampled_from(_STRING_ATTRS).map(lambda attr: f"{attr} pr"),
    st.sampled_from(["active eq true", "active eq false", "active ne true"]),
    st.builds(
        lambda kind, op, value: f'emails[type eq "{kind}" and value {op} "{value}"]',
        st.sampled_from(["work", "home"]),
        st.sampled_from(["co", "sw"]),
        st.sampled_from(_WORDS),
    ),
)
filters = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        inner.map(lambda a: f"not ({a})"),
    ),
    max_leaves=4,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=filters)
def test_the_database_selects_what_the_reference_evaluator_accepts(scim, people, text):
    answer = scim.get("/Users", {"filter": text, "count": "200"})
    try:
        reference = ScimFilter[ScimUserModel](text)
    except SCIMException:  # e.g. `emails.value eq "a"`: not an address, refused by both
        assert answer.status_code == 400
        assert answer.json()["scimType"] == "invalidFilter"
        return
    served = scim.get("/Users", {"count": "200"}).json()["Resources"]
    ours = {r["id"]: ScimUserModel.model_validate(r) for r in served if r["id"] in people.values()}
    expected = {rid for rid, resource in ours.items() if reference.match(resource)}
    assert answer.status_code == 200, answer.content
    assert {r["id"] for r in answer.json()["Resources"]} & set(ours) == expected
