"""On PostgreSQL the member search is answered from the trigram indexes (migrations tenancy 0002,
0004): they exist, keep no pending list, and the plan of a rare term's page uses them."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from tessera.administration.member_selectors import member_filter
from tessera.identity.models import User
from tessera.tenancy.models import Membership
from tests.factories import make_tenant

INDEXES = {
    "tenancy_search_user_email_trgm",
    "tenancy_search_user_first_name_trgm",
    "tenancy_search_user_last_name_trgm",
}

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _seed(tenant, count: int) -> None:
    now = timezone.now()
    users = [
        User(
            id=uuid.uuid4(),
            email=f"person{i}.smith@seed.test",
            first_name=f"First{i % 50}",
            last_name="Smith" if i % 3 else f"Other{i % 7}",
            password="!seeded",
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    ]
    User.objects.bulk_create(users, batch_size=1000)
    Membership.objects.bulk_create(
        [Membership(id=uuid.uuid4(), tenant=tenant, user=u, status="active") for u in users],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE identity_user")
        cursor.execute("ANALYZE tenancy_membership")


def test_the_trigram_indexes_exist_without_a_pending_list():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [list(INDEXES)]
        )
        found = dict(cursor.fetchall())
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == (1,)
    assert set(found) == INDEXES
    assert all(options == ["fastupdate=off"] for options in found.values()), found


def test_a_rare_terms_page_is_read_from_the_trigram_index():
    tenant = make_tenant("big")
    _seed(tenant, 4000)
    page = member_filter(tenant=tenant, q="PERSON1234.").order_by("created_at", "id")[:51]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "tenancy_search_user_email_trgm" in plan, plan
    assert [m.user.email for m in page] == ["person1234.smith@seed.test"]
