"""On PostgreSQL, `audit_auditevent` becomes a table partitioned by month of `created_at`.

The old table is renamed, a partitioned table with the same columns is created with one partition
per month from the oldest event to three months ahead plus a DEFAULT partition (so an insert never
fails), the rows are copied, the old table is dropped, and the indexes (same names), the primary
key and the append-only trigger are created on the partitioned table (and so on every partition).

The database cannot enforce a unique key across partitions unless it holds the partition key, so
the primary key becomes (id, created_at) and the (chain, seq) constraint (chain, seq, created_at);
Django keeps `id` as the primary key. No foreign key points at audit events. Later months are
created by `tessera.audit.partitions.audit_partitions_ensure` (`tessera cleanup`, after migrate).

A no-op on SQLite. The month arithmetic is frozen here, apart from the services.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import migrations

TABLE = "audit_auditevent"
OLD = "audit_auditevent_unpartitioned"
KEEP = ("audit_auditevent_pkey", "audit_event_chain_seq_unique")
TRIGGER = (
    f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
)
MONTHS_AHEAD = 3


def _month(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next(month: datetime) -> datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def _index_definitions(cursor, table: str) -> list[str]:
    """The CREATE INDEX statements of `table`'s secondary indexes, aimed at TABLE."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = %s ORDER BY indexname",
        [table],
    )
    found = []
    for name, definition in cursor.fetchall():
        if name in KEEP:
            continue
        definition = definition.replace(" ON ONLY ", " ON ")
        found.append(definition.replace(f".{table} ", f".{TABLE} ", 1))
    return found


def _swap(schema_editor, create_sql: str, *, pkey: str, chain_seq: str) -> None:
    """Rename the table, create its replacement (`create_sql`), copy the rows, rebuild indexes."""
    execute = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        indexes = _index_definitions(cursor, OLD)
        execute(create_sql)
        execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")  # noqa: S608 (constant table names)
        execute(f"DROP TABLE {OLD}")
        execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT audit_auditevent_pkey PRIMARY KEY ({pkey})")
        execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT audit_event_chain_seq_unique UNIQUE ({chain_seq})"
        )
        for definition in indexes:
            execute(definition)
        execute(TRIGGER)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT min(created_at) FROM {TABLE}")  # noqa: S608 (constant table names)
        oldest = cursor.fetchone()[0]
    now = datetime.now(UTC)
    month, last = _month(oldest or now), _month(now)
    for _ in range(MONTHS_AHEAD):
        last = _next(last)
    partitions = [
        f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT",
    ]
    while month <= last:
        end = _next(month)
        partitions.append(
            f"CREATE TABLE {TABLE}_p{month:%Y_%m} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{month.isoformat()}') TO ('{end.isoformat()}')"
        )
        month = end
    create = (
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (created_at); " + "; ".join(partitions)
    )
    _swap(schema_editor, create, pkey="id, created_at", chain_seq="chain, seq, created_at")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    create = f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    _swap(schema_editor, create, pkey="id", chain_seq="chain, seq")


class Migration(migrations.Migration):
    dependencies = [("audit", "0010_audit_partitions")]
    operations = [migrations.RunPython(forwards, backwards)]
