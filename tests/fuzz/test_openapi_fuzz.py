"""Schemathesis over every operation of the OpenAPI document, in process: no answer is a 5xx.

The operations come from the live document (`api.get_openapi_schema()`), so endpoints added later
are fuzzed without touching this file. Each operation is one test (pytest-xdist spreads them)
with its own database transaction and a fresh world: tenant `acme` with an administrator (also a
platform administrator, so the /tenants operations run past the permission check), a manager, a
member and a viewer, a custom role, a grant, a delegation, an API key and a service
account; `globex` is another tenant. The caller is the administrator's access token, rate limits
are lifted, and path, query and body identifiers are drawn sometimes from the world's real ids so
that operations run past their 404s. State-changing examples cannot spoil another operation's
examples (each operation starts from a new world); within one operation the guard rails keep
the world usable (the last admin cannot be removed, and so on).

Examples per operation: `TESSERA_FUZZ_EXAMPLES` (default 30); seed: `TESSERA_FUZZ_SEED`
(default fixed, so CI is repeatable; set another to explore); `TESSERA_FUZZ_STATS=<file>` records
each call's status. Deselect locally with `-m "not fuzz"`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from tessera.api.app import api
from tests.authn.conftest import bearer, login
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant, make_user

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("TESSERA_FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("TESSERA_FUZZ_SEED", "20261128"))
STATS = os.environ.get("TESSERA_FUZZ_STATS")  # a file: one "operation<TAB>status" line per call
UNLIMITED = "1000000/minute"

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": EXAMPLES,
            "mode": "all",  # schema-valid and schema-violating inputs
            "with-security-parameters": False,  # the token below authenticates
            "database": "none",
        },
        # examples (none are declared) + fuzzing; the CLI run adds coverage and stateful phases
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)


class InTestTransactionWSGI(WSGIHandler):
    """Django's WSGI handler without closing the connection at the end of each request: the
    test's transaction (pytest-django's `db`) stays open, as with Django's own test client."""

    def __call__(self, environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = super().__call__(environ, start_response)
            body = b"".join(response)
            response.close()
            return [body]
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)
schema.app = InTestTransactionWSGI()

# The real ids of the current test's world, by parameter name (set by the `world` fixture,
# read while Hypothesis draws an example inside the test).
_known = threading.local()


def _known_values(name: str) -> list[str]:
    return getattr(_known, "ids", {}).get(name, [])


def _sometimes_known(value: Any, name: str) -> st.SearchStrategy:
    known = _known_values(name)
    if known and not isinstance(value, dict):
        return st.one_of(st.just(value), st.sampled_from(known))
    if isinstance(value, dict):
        return st.fixed_dictionaries({k: _sometimes_known(v, k) for k, v in value.items()})
    return st.just(value)


def _sometimes_known_mapping(values: dict[str, Any] | None) -> st.SearchStrategy:
    if not values:
        return st.just(values)
    return _sometimes_known(values, "")


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _sometimes_known_mapping(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return _sometimes_known_mapping(query)


@schema.hook
def flatmap_body(context, body):
    return _sometimes_known(body, "") if isinstance(body, dict) else st.just(body)


def _created(client: Client, token: str, path: str, body: dict) -> dict:
    response = client.post(
        "/api/v1" + path, body, content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 201, (path, response.content)
    return response.json()


@pytest.fixture
def world(db, settings) -> Iterator[dict[str, str]]:
    settings.RATE_LIMIT_API = UNLIMITED
    settings.RATE_LIMIT_BULK = UNLIMITED
    settings.RATE_LIMIT_IP_FAILURES = UNLIMITED
    settings.RATE_LIMIT_AUTH_FAILURES = UNLIMITED
    # the account lockout stays on, at its most lenient, so that fuzzed logins keep reaching it
    acme = make_tenant("acme", lockout={"max_failures": 100, "lockout_minutes": 1})
    globex = make_tenant("globex")
    admin_user = make_user("admin@acme.test", is_platform_admin=True)
    admin = make_member(acme, roles=["admin"], user=admin_user, department="IT")
    manager = make_member(acme, "manager@acme.test", roles=["manager"], department="QA")
    member = make_member(acme, "member@acme.test", roles=["member"], department="QA")
    viewer = make_member(acme, "viewer@acme.test", roles=["viewer"])
    outsider = make_member(globex, "admin@globex.test", roles=["admin"])

    client = Client()
    answer = login(client, "admin@acme.test", tenant="acme")
    assert answer.status_code == 200, answer.content
    token = answer.json()["access_token"]
    role = _created(
        client,
        token,
        "/roles",
        {
            "slug": "auditor",
            "name": "Auditor",
            "rules": [{"effect": "allow", "permission": "audit:read", "scope": "all"}],
        },
    )
    grant = _created(
        client,
        token,
        "/grants",
        {
            "subject": {"user_id": str(member.user_id)},
            "permission": "document:read",
            "resource_type": "document",
            "resource_id": "doc-1",
        },
    )
    delegation = _created(
        client,
        token,
        "/delegations",
        {
            "delegator_id": str(manager.user_id),
            "delegate_id": str(member.user_id),
            "role": "viewer",
            "ends_at": (timezone.now() + timedelta(days=30)).isoformat(),
        },
    )
    key = _created(client, token, "/api-keys", {"name": "ci", "scopes": ["user:read"]})
    service = _created(client, token, "/service-accounts", {"name": "Robot", "roles": ["viewer"]})
    sessions = client.get("/api/v1/auth/sessions", headers=bearer(token)).json()["items"]

    user_ids = [str(m.user_id) for m in (admin, manager, member, viewer, outsider)]
    user_ids.append(service["id"])
    _known.ids = {
        "user_id": user_ids,
        "subject_id": user_ids,
        "delegate_id": user_ids,
        "delegator_id": user_ids,
        "manager_id": user_ids,
        "actor_id": user_ids,
        "service_account_id": [service["id"]],
        "slug": ["admin", "manager", "member", "viewer", role["slug"], "fuzzed"],
        "role": ["admin", "manager", "member", "viewer", role["slug"]],
        "tenant_id": [str(acme.pk), str(globex.pk)],
        "tenant": [acme.slug, globex.slug],
        "grant_id": [grant["id"]],
        "delegation_id": [delegation["id"]],
        "key_id": [key["id"]],
        "session_id": [s["id"] for s in sessions],
        "resource_id": ["doc-1", str(member.user_id)],
        "resource_type": ["document", "user"],
        "email": ["member@acme.test", "admin@globex.test", "nobody@example.test"],
        # well-formed values for bodies, so that operations also reach their success paths
        "name": ["Fuzzed", "Robot two"],
        "password": [DEFAULT_PASSWORD],
        "current_password": [DEFAULT_PASSWORD],
        "new_password": ["a fresh passphrase for fuzzing"],
        "permission": ["document:read", "user:read", "audit_log:read"],
        "action": ["document:read", "user:read"],
        "permissions": [["document:read"], ["user:read", "role:read"]],
        "scopes": [["user:read"], ["user:read", "role:read"]],
        "roles": [["viewer"], ["member", role["slug"]]],
        "rules": [
            [{"effect": "allow", "permission": "document:read", "scope": "all"}],
            [{"effect": "deny", "permission": "user:delete", "scope": "own"}],
        ],
        "users": [[{"email": "bulk@acme.test", "roles": ["viewer"]}]],
        "starts_at": [(timezone.now() + timedelta(days=1)).isoformat()],
        "ends_at": [(timezone.now() + timedelta(days=10)).isoformat()],
        "expires_at": [(timezone.now() + timedelta(days=10)).isoformat()],
    }
    yield {"Authorization": f"Bearer {token}"}
    _known.ids = {}


@schema.parametrize()
@settings(
    # the world is rebuilt per operation, not per example; generation speed on a loaded CI
    # machine is no finding
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
    deadline=None,
)
def test_no_operation_answers_a_server_error(case, world):
    response = case.call_and_validate(headers=world, checks=[not_a_server_error])
    if STATS:
        with open(STATS, "a") as out:
            out.write(f"{case.operation.label}\t{response.status_code}\n")
