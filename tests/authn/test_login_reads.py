"""A password login reads the person's memberships once, and their roles once: the lockout rule,
the membership the session is bound to, the password policy, the answer's `memberships` and the
access token's `roles` all come from those two reads."""

import base64
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant


def test_a_login_reads_the_persons_memberships_once(client, tenant):
    member = make_member(tenant, "twice@example.test", roles=["viewer"])
    make_member(make_tenant("globex"), user=member.user, roles=["member"])
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(
            "/api/v1/auth/login",
            {"email": "twice@example.test", "password": DEFAULT_PASSWORD, "tenant": "globex"},
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["tenant"]["slug"] == "globex"
    assert [(m["tenant"]["slug"], m["roles"]) for m in body["memberships"]] == [
        ("acme", ["viewer"]),
        ("globex", ["member"]),
    ]

    def reads_memberships(sql: str) -> bool:
        tables = sql.split("WHERE")[0]
        return sql.startswith("SELECT") and (
            'FROM "tenancy_membership"' in tables or 'JOIN "tenancy_membership"' in tables
        )

    membership_reads = [q["sql"] for q in queries.captured_queries if reads_memberships(q["sql"])]
    assert len(membership_reads) == 1, membership_reads
    role_reads = [q["sql"] for q in queries.captured_queries if "access_roleassignment" in q["sql"]]
    assert len(role_reads) == 1, role_reads
    claims = body["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert claims["roles"] == ["member"]
