"""Usage is written in batches (no UPDATE per request), authentication costs one query, and the
key's secret appears in no response after its creation and in no log line."""

from __future__ import annotations

import logging

from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from tests.authn.api_keys.conftest import API, KEYS, bearer, call, create_key

from tessera.audit.models import AuditEvent
from tessera.authn.api_key_auth import usage_flush
from tessera.authn.models import ApiKey
from tessera.authn.request_auth import authenticate_request

USERS = f"{API}/users"


def _key_updates(queries) -> list[str]:
    table = ApiKey._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and table in q["sql"]]


def test_usage_is_counted_in_process_and_written_in_one_batch(client, member_key, settings):
    settings.API_KEY_USAGE_FLUSH_SECONDS = 3600
    key = member_key["key"]
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert call(client, USERS, key, REMOTE_ADDR="10.9.8.7").status_code == 200
    assert _key_updates(queries.captured_queries) == []
    row = ApiKey.objects.get(pk=member_key["id"])
    assert row.use_count == 0 and row.last_used_at is None

    with CaptureQueriesContext(connection) as queries:
        assert usage_flush() == 1
    assert len(_key_updates(queries.captured_queries)) == 1
    row.refresh_from_db()
    assert row.use_count == 5 and row.last_used_at is not None and row.last_used_ip == "10.9.8.7"
    assert usage_flush() == 0  # nothing pending


def test_a_due_flush_happens_on_a_request_and_the_listing_shows_usage(
    client, member_key, member_token, settings
):
    settings.API_KEY_USAGE_FLUSH_SECONDS = 0
    key = member_key["key"]
    with CaptureQueriesContext(connection) as queries:
        call(client, USERS, key)
    assert len(_key_updates(queries.captured_queries)) == 1
    settings.API_KEY_USAGE_FLUSH_SECONDS = 3600
    call(client, USERS, key)
    listed = client.get(KEYS, headers=bearer(member_token)).json()["items"][0]
    assert listed["use_count"] == 2 and listed["last_used_at"] is not None


def test_authenticating_a_cached_key_costs_one_round_trip(
    client, member_key, django_assert_num_queries, settings
):
    request = RequestFactory().get(USERS, HTTP_X_API_KEY=member_key["key"])
    authenticate_request(request)  # loads the key row into the process cache
    # the live state (membership, tenant, their versions): one Redis MGET, or one query
    with django_assert_num_queries(0 if settings.REDIS_URL else 1):
        principal = authenticate_request(request)
    assert principal.api_key_id is not None and principal.scopes == {"user:read", "role:read"}


def test_the_secret_never_appears_after_creation_nor_in_logs(
    client, member_token, admin_token, caplog
):
    caplog.set_level(logging.DEBUG)  # every logger ...
    caplog.set_level(logging.DEBUG, logger="django")
    with CaptureQueriesContext(connection):  # ... SQL included, with its parameters
        created = create_key(client, member_token, name="secret-test")
        raw = created.json()["key"]
        secret = raw.split("_", 2)[2]
        answers = [
            client.get(KEYS, headers=bearer(member_token)),
            client.get(KEYS, headers=bearer(admin_token)),
            call(client, USERS, raw),
            call(client, f"{API}/auth/me", raw),
            call(client, f"{API}/grants", raw),  # a 403
            call(client, USERS, raw[:-1] + ("A" if raw[-1] != "A" else "B")),  # a 401
            client.get(f"{API}/audit-events", headers=bearer(admin_token)),
            client.delete(f"{KEYS}/{created.json()['id']}", headers=bearer(member_token)),
            call(client, USERS, raw),  # revoked
        ]
        usage_flush()
    for response in answers:
        assert secret not in response.content.decode(), response.request["PATH_INFO"]
    assert ApiKey._meta.db_table in caplog.text  # the SQL was logged ...
    assert secret not in caplog.text  # ... but never the key
    assert raw not in caplog.text
    assert all(secret not in str(e.changes) for e in AuditEvent.objects.all())
    assert secret not in str(list(ApiKey.objects.values()))
