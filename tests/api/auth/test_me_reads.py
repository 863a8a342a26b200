"""`GET /api/v1/auth/me` reads what it answers in two queries: the caller's membership with its
user and tenant, and the member's roles (the permissions come from the compiled policy's cache;
the session's state from Redis, or one more query without it)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.authn.conftest import bearer, login
from tests.factories import make_member


def test_me_answers_from_two_queries(client, tenant):
    member = make_member(tenant, "reader@example.test", roles=["viewer"])
    member.user.first_name = "Ria"
    member.user.save(update_fields=["first_name"])
    token = login(client, "reader@example.test", tenant="acme").json()["access_token"]
    client.get("/api/v1/auth/me", headers=bearer(token))  # the compiled policy is cached
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/api/v1/auth/me", headers=bearer(token))
    assert answer.status_code == 200
    body = answer.json()
    assert body["user"]["first_name"] == "Ria" and body["tenant"]["slug"] == "acme"
    assert body["roles"] == ["viewer"]
    reads = [
        q["sql"]
        for q in queries.captured_queries
        # the session's state is read from Redis when there is one, else by one query
        if q["sql"].startswith("SELECT") and not q["sql"].startswith('SELECT "authn_session"')
    ]
    assert len(reads) == 2, reads
