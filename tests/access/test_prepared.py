"""Prepared reads (tessera.access.prepared): the same rows as the ORM, arguments in their places
among the query's own constants, prepared once per PostgreSQL connection and still right after
a rollback, unprepared when preparing is off, and visible in Django's query log."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tessera.access.prepared import PreparedQuery, PreparedRow
from tessera.tenancy.models import Membership, MembershipStatus
from tests.factories import make_member, make_tenant

_TENANT = uuid.UUID(int=0)
_EMAIL = "\x00test-email"

# two arguments, and constants of the query's own (a status, a flag) between them
_ACTIVE_BY_EMAIL = PreparedQuery(
    lambda tenant_id, email: (
        Membership.objects.filter(
            tenant_id=tenant_id,
            status=MembershipStatus.ACTIVE,
            user__is_service_account=False,
            user__email=email,
        )
        .values_list("id", "user__email", "created_at", "attributes")
        .order_by("created_at")
    ),
    placeholders=(_TENANT, _EMAIL),
)
_MEMBERS_OF = PreparedQuery(
    lambda tenant_id: (
        Membership.objects.filter(tenant_id=tenant_id)
        .values_list("user__email", flat=False)
        .order_by("user__email")
    ),
    placeholders=(_TENANT,),
)
_STATUS = PreparedRow(
    Membership, lambda pk: Membership.objects.filter(pk=pk).values_list("status").order_by()[:1]
)


@pytest.fixture
def world(db):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    ada = make_member(acme, "ada@example.com", attributes={"team": "core"})
    make_member(acme, "bob@example.com")
    make_member(globex, "ada.g@example.com")
    return acme, globex, ada


def _orm(tenant_id, email):
    return [
        tuple(row)
        for row in Membership.objects.filter(
            tenant_id=tenant_id,
            status=MembershipStatus.ACTIVE,
            user__is_service_account=False,
            user__email=email,
        ).values_list("id", "user__email", "created_at", "attributes")
    ]


def test_rows_are_the_orms_with_arguments_in_their_places(world):
    acme, globex, ada = world
    for tenant, email in (
        (acme, "ada@example.com"),
        (acme, "bob@example.com"),
        (globex, "ada@example.com"),  # another tenant's
        (acme, "nobody@example.com"),
    ):
        assert _ACTIVE_BY_EMAIL.all(tenant.pk, email) == _orm(tenant.pk, email)
    row = _ACTIVE_BY_EMAIL.one(acme.pk, "ada@example.com")
    assert row == (ada.pk, "ada@example.com", ada.created_at, {"team": "core"})
    assert _ACTIVE_BY_EMAIL.one(str(acme.pk), "ada@example.com") == row  # a uuid as text too
    assert _MEMBERS_OF.all(acme.pk) == [("ada@example.com",), ("bob@example.com",)]


def test_a_row_by_primary_key(world):
    _, _, ada = world
    assert _STATUS.fetch(ada.pk) == (MembershipStatus.ACTIVE,)
    assert _STATUS.fetch(str(ada.pk)) == (MembershipStatus.ACTIVE,)
    assert _STATUS.fetch(uuid.uuid4()) is None
    assert _STATUS.fetch("not-a-uuid") is None


def test_a_placeholder_the_query_drops_is_refused(db):
    dropped = PreparedQuery(
        lambda tenant_id, email: Membership.objects.filter(tenant_id=tenant_id).values_list("id"),
        placeholders=(_TENANT, _EMAIL),
    )
    with pytest.raises(RuntimeError):
        dropped.all(uuid.uuid4(), "x")
    with pytest.raises(TypeError):
        _MEMBERS_OF.all()


def test_the_query_log_shows_the_sql(world):
    acme, _, _ = world
    with CaptureQueriesContext(connection) as queries:
        _MEMBERS_OF.all(acme.pk)
        _MEMBERS_OF.all(acme.pk)
    assert len(queries.captured_queries) == 2
    assert all("tenancy_membership" in q["sql"] for q in queries.captured_queries)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
def test_postgres_plans_it_once_per_connection(world):
    acme, _, _ = world
    assert connection.vendor == "postgresql"
    _ACTIVE_BY_EMAIL.all(acme.pk, "ada@example.com")
    statements = [s for s in _prepared_statements() if '"identity_user"."email" = $' in s]
    assert len(statements) == 1
    for _ in range(3):
        _ACTIVE_BY_EMAIL.all(acme.pk, "bob@example.com")
    assert [s for s in _prepared_statements() if '"identity_user"."email" = $' in s] == statements


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_prepares_again_after_a_rollback():
    acme = make_tenant("acme")
    make_member(acme, "ada@example.com")
    assert _ACTIVE_BY_EMAIL.one(acme.pk, "ada@example.com") is not None
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        assert _ACTIVE_BY_EMAIL.one(acme.pk, "ada@example.com") is not None
        raise ZeroDivisionError  # psycopg deallocates its statements on the rollback
    assert _ACTIVE_BY_EMAIL.one(acme.pk, "ada@example.com") is not None
    assert _ACTIVE_BY_EMAIL.one(acme.pk, "nobody@example.com") is None


@pytest.mark.postgres
def test_postgres_without_preparing_answers_the_same(world):
    acme, _, _ = world
    expected = _ACTIVE_BY_EMAIL.all(acme.pk, "ada@example.com")
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = None  # TESSERA_DB_PREPARED_STATEMENTS=0
    try:
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        raw._prepared.clear()  # noqa: SLF001 - forget the names DEALLOCATE dropped
        assert _ACTIVE_BY_EMAIL.all(acme.pk, "ada@example.com") == expected
        assert not [s for s in _prepared_statements() if '"identity_user"."email" = $' in s]
    finally:
        raw.prepare_threshold = before
