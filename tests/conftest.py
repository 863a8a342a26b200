"""Fixtures that build the world a test needs in a line."""

from __future__ import annotations

import os

import pytest

from tests.factories import make_member, make_tenant, make_user

REQUIRE_SERVICES = os.environ.get("TESSERA_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    have_pg = bool(os.environ.get("TESSERA_TEST_DATABASE_URL"))
    have_redis = bool(os.environ.get("TESSERA_TEST_REDIS_URL"))
    for item in items:
        for marker, available in (("postgres", have_pg), ("redis", have_redis)):
            if item.get_closest_marker(marker) and not available:
                if REQUIRE_SERVICES:
                    raise pytest.UsageError(
                        f"{item.nodeid} needs {marker}, which is not configured"
                    )
                item.add_marker(pytest.mark.skip(reason=f"needs {marker} (set TESSERA_TEST_*)"))


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    from tessera.testing import authn_reset_process_state

    cache.clear()
    authn_reset_process_state()  # cached signing keys, verified tokens, in-memory lockout counters
    yield


@pytest.fixture
def tenant(db):
    return make_tenant("acme")


@pytest.fixture
def other_tenant(db):
    return make_tenant("globex")


@pytest.fixture
def user(db):
    return make_user("alice@example.test")


@pytest.fixture
def member_factory(db):
    return make_member
