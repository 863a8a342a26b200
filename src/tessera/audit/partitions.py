"""Monthly partitions of the audit table on PostgreSQL (see migration 0011); nothing on SQLite.

Partitions are named `audit_auditevent_pYYYY_MM` and cover one calendar month in UTC;
`audit_auditevent_default` takes any row no month partition covers, so an insert never fails.
`audit_partitions_ensure` creates the coming months (run by `tessera cleanup` and after migrate)
and moves rows that landed in the default partition into their month's new partition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

TABLE = "audit_auditevent"
DEFAULT_PARTITION = f"{TABLE}_default"
_MONTH_NAME = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(month: datetime) -> datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def partition_name(month: datetime) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def audit_is_partitioned() -> bool:
    """True on PostgreSQL once migration 0011 has turned the table into a partitioned one."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def _attached() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [TABLE],
        )
        return [name for (name,) in cursor.fetchall()]


def audit_partitions() -> list[Partition]:
    """The month partitions, oldest first (the default partition is not listed)."""
    if not audit_is_partitioned():
        return []
    found = []
    for name in _attached():
        match = _MONTH_NAME.match(name)
        if match:
            start = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
            found.append(Partition(name, start, next_month(start)))
    return sorted(found, key=lambda partition: partition.start)


def default_partition_months() -> list[datetime]:
    """The months of the rows that sit in the default partition (no month partition took them)."""
    if not audit_is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', created_at, 'UTC') FROM {DEFAULT_PARTITION}"  # noqa: S608 (constant table names)
        )
        return sorted(month_start(month) for (month,) in cursor.fetchall())


def _create(cursor, month: datetime) -> None:
    cursor.execute(
        f"CREATE TABLE {partition_name(month)} PARTITION OF {TABLE} "
        f"FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"
    )


def audit_partitions_ensure(*, months_ahead: int = 3, now: datetime | None = None) -> list[str]:
    """Create the partitions of this month and the next `months_ahead`, and of every month that
    has rows in the default partition (those rows move into it); returns the names created.

    Rows in the default partition are moved by rebuilding it: they are copied aside, the default
    partition is dropped (no row trigger fires on DROP), the month partitions and a new default
    are created and the rows inserted again through the parent, which routes them.
    """
    if months_ahead < 0:
        raise ValueError("months_ahead must not be negative")
    if not audit_is_partitioned():
        return []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
        month = month_start(now or timezone.now())
        wanted = {month}
        for _ in range(months_ahead):
            month = next_month(month)
            wanted.add(month)
        stranded = set(default_partition_months())
        existing = set(_attached())
        missing = sorted(m for m in wanted | stranded if partition_name(m) not in existing)
        if not missing:
            return []
        with connection.cursor() as cursor:
            if stranded:
                stash = "CREATE TEMPORARY TABLE audit_stranded ON COMMIT DROP AS SELECT * FROM "
                cursor.execute(stash + DEFAULT_PARTITION)
                cursor.execute(f"DROP TABLE {DEFAULT_PARTITION}")
            for month in missing:
                _create(cursor, month)
            if stranded:
                cursor.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT")
                cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM audit_stranded")  # noqa: S608 (constant table names)
                cursor.execute("DROP TABLE audit_stranded")
    return [partition_name(m) for m in missing]


def audit_partition_drop(partition: Partition) -> None:
    """Detach a month partition and drop it (its rows must have been archived first)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {partition.name}")
        cursor.execute(f"DROP TABLE {partition.name}")
