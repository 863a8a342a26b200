"""A hash stored with outdated parameters is re-encoded at the user's next successful login."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.test import override_settings
from tests.authn.conftest import login
from tests.factories import DEFAULT_PASSWORD

from tessera.identity.models import User


def _params(encoded: str) -> dict:
    return identify_hasher(encoded).decode(encoded)


@pytest.fixture
def old_hash(alice):
    """Alice's password stored under other Argon2 parameters (a former default's shape)."""
    with override_settings(ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=2048):
        encoded = make_password(DEFAULT_PASSWORD)
    User.objects.filter(pk=alice.user_id).update(password=encoded)
    return encoded


def test_a_successful_login_re_encodes_an_outdated_hash(client, alice, old_hash, settings):
    assert _params(old_hash)["time_cost"] == 3
    assert login(client, "alice@example.test", tenant="acme").status_code == 200
    stored = User.objects.get(pk=alice.user_id).password
    assert stored != old_hash
    params = _params(stored)
    assert params["algorithm"] == "argon2"
    assert params["time_cost"] == settings.ARGON2_TIME_COST
    assert params["memory_cost"] == settings.ARGON2_MEMORY_COST
    assert params["parallelism"] == settings.ARGON2_PARALLELISM
    assert check_password(DEFAULT_PASSWORD, stored)
    # the re-encoded hash logs in, and is not re-encoded again
    assert login(client, "alice@example.test", tenant="acme").status_code == 200
    assert User.objects.get(pk=alice.user_id).password == stored


def test_a_wrong_password_leaves_the_outdated_hash_alone(client, alice, old_hash):
    assert login(client, "alice@example.test", "wrong password!", tenant="acme").status_code == 401
    assert User.objects.get(pk=alice.user_id).password == old_hash


def test_a_pbkdf2_hash_moves_to_argon2_at_login(client, alice):
    encoded = make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(pk=alice.user_id).update(password=encoded)
    assert login(client, "alice@example.test", tenant="acme").status_code == 200
    stored = User.objects.get(pk=alice.user_id).password
    assert stored.startswith("argon2$argon2id$")
    assert check_password(DEFAULT_PASSWORD, stored)
