"""Every paginated list refuses a cursor it did not issue with 422 — never a 500."""

import base64
import json

import pytest

from tests.authn.conftest import bearer, login
from tests.factories import make_member

LISTS = [
    "/api/v1/auth/sessions",
    "/api/v1/api-keys",
    "/api/v1/service-accounts",
    "/api/v1/grants",
    "/api/v1/delegations",
    "/api/v1/users",
    "/api/v1/audit-events",
    "/api/v1/roles",
    "/api/v1/permissions",
]


def forged(position: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.fixture
def token(client, tenant):
    make_member(tenant, "lister@example.test", roles=["admin"])
    return login(client, "lister@example.test", tenant="acme").json()["access_token"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !!",
        forged({"c": "2026-01-01T00:00:00+00:00", "i": "not-a-uuid"}),
        forged({"c": "yesterday", "i": "00000000-0000-0000-0000-000000000000"}),
        forged({"seq": "x", "slug": 5, "i": None}),
        forged([1, 2]),
    ],
)
def test_a_forged_cursor_is_422(client, token, path, cursor):
    r = client.get(path, {"cursor": cursor}, headers=bearer(token))
    assert r.status_code == 422, (path, r.status_code, r.content[:200])
    assert r["Content-Type"] == "application/problem+json"
