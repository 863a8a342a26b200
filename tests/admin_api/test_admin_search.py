"""The admin's user and membership changelists search like the API, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.access.admin import paging
from tessera.tenancy.models import MembershipStatus
from tessera.testing import admin_session_login
from tests.factories import make_member, make_tenant, make_user

USERS = "/admin/identity/user/"
MEMBERS = "/admin/tenancy/membership/"


@pytest.fixture
def admin_client(platform_admin):
    client = Client()
    admin_session_login(client, platform_admin)
    return client


@pytest.fixture
def acme(db):
    tenant = make_tenant("acme")
    for email, first, last in (
        ("jo.smith@acme.test", "Jo", "Smith"),
        ("ann@acme.test", "Ann", "SMITHSON"),
        ("carla@acme.test", "Carla", "Costa"),
    ):
        make_member(tenant, user=make_user(email, first_name=first, last_name=last))
    invited = make_user("dana@elsewhere.test", first_name="Dana", last_name="Smith")
    make_member(tenant, user=invited, roles=[], status=MembershipStatus.INVITED)
    return tenant


def shown(response, emails) -> set[str]:
    assert response.status_code == 200
    page = response.content.decode()
    return {e for e in emails if e in page}


EVERYONE = {"jo.smith@acme.test", "ann@acme.test", "carla@acme.test", "dana@elsewhere.test"}


def test_the_user_changelist_finds_names_and_emails_in_any_case(admin_client, acme):
    found = shown(admin_client.get(USERS, {"q": "sMiTh"}), EVERYONE)
    assert found == {"jo.smith@acme.test", "ann@acme.test", "dana@elsewhere.test"}
    assert shown(admin_client.get(USERS, {"q": "COSTA"}), EVERYONE) == {"carla@acme.test"}
    assert shown(admin_client.get(USERS, {"q": "x" * 101}), EVERYONE) == set()


def test_the_membership_changelist_searches_like_the_api(admin_client, acme):
    """Email or (accepted) name: the invited Smith is found by address only."""
    found = shown(admin_client.get(MEMBERS, {"q": "smith"}), EVERYONE)
    assert found == {"jo.smith@acme.test", "ann@acme.test"}
    assert shown(admin_client.get(MEMBERS, {"q": "elsewhere"}), EVERYONE) == {"dana@elsewhere.test"}


def test_a_changelist_costs_the_same_queries_for_5_or_40_rows(
    admin_client, acme, django_assert_max_num_queries
):
    admin_client.get(MEMBERS)
    with django_assert_max_num_queries(30) as few:
        assert admin_client.get(MEMBERS, {"q": "acme"}).status_code == 200
        assert admin_client.get(USERS, {"q": "acme"}).status_code == 200
    baseline = len(few)
    for i in range(36):
        make_member(acme, f"many{i}@acme.test")
    with django_assert_max_num_queries(baseline):
        members = admin_client.get(MEMBERS, {"q": "acme"})
        users = admin_client.get(USERS, {"q": "acme"})
    assert members.content.decode().count("@acme.test</a>") >= 38
    assert users.content.decode().count("@acme.test</a>") >= 38


def test_the_pager_counts_at_most_the_cap(admin_client, acme, monkeypatch):
    monkeypatch.setattr(paging, "CAP", 3)
    page = admin_client.get(USERS).content.decode()
    assert "3 users" in page and "5 users" not in page  # five identities, counted up to three
