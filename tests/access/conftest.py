"""Fixtures of the access tests: an empty compiled-policy cache, and a one-line role maker."""

from __future__ import annotations

import pytest

from tessera.access.bridge.policy import clear_local_cache


@pytest.fixture(autouse=True)
def _empty_policy_cache():
    clear_local_cache()
    yield
    clear_local_cache()
