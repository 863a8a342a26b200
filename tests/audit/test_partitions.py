"""On PostgreSQL the audit table is partitioned by month: partitions exist after migrate and ahead,
a row no partition covers lands in the default one and moves out, chains verify across months,
and the archive detaches and drops the months it wrote."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, date, datetime

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tessera.audit.archive import archive_row
from tessera.audit.models import AuditEvent
from tessera.audit.partitions import (
    DEFAULT_PARTITION,
    audit_is_partitioned,
    audit_partitions,
    audit_partitions_ensure,
    month_start,
    next_month,
    partition_name,
)
from tessera.audit.selectors import audit_chain_verify
from tessera.audit.services import Actor, audit_record, audit_redact, chain_key
from tessera.privacy.audit_retention import audit_archive_run
from tests.audit.archive_helpers import at, clock, read_jsonl, tenant_with_history

migration = importlib.import_module("tessera.audit.migrations.0011_partition_by_month")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def partition_of(event) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_auditevent WHERE id = %s", [event.pk]
        )
        return cursor.fetchone()[0]


def table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def test_partitions_exist_after_migrate():
    assert audit_is_partitioned()
    month = month_start(timezone.now())
    names = {p.name for p in audit_partitions()}
    for _ in range(4):  # this month and three ahead
        assert partition_name(month) in names
        month = next_month(month)
    assert table_exists(DEFAULT_PARTITION)


def test_ensure_creates_months_ahead_once():
    far = month_start(timezone.now())
    for _ in range(6):
        far = next_month(far)

    created = audit_partitions_ensure(months_ahead=6)

    assert partition_name(far) in created
    assert audit_partitions_ensure(months_ahead=6) == []
    assert partition_name(far) in {p.name for p in audit_partitions()}


def test_a_far_future_event_lands_in_the_default_partition_then_moves(tenant):
    with clock(datetime(2040, 5, 3, tzinfo=UTC)):
        event = audit_record(type="LOGIN", actor=Actor(type="user"), tenant_id=tenant.pk)
    assert partition_of(event) == DEFAULT_PARTITION

    created = audit_partitions_ensure()

    assert "audit_auditevent_p2040_05" in created
    assert partition_of(event) == "audit_auditevent_p2040_05"
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
    assert audit_chain_verify(key=chain_key(tenant.pk)).valid


def test_chain_verifies_across_three_monthly_partitions():
    tenant = tenant_with_history("spread", [(2025, 1), (2025, 2), (2025, 3)])
    audit_partitions_ensure()
    events = list(AuditEvent.objects.filter(chain=chain_key(tenant.pk)).order_by("seq"))
    assert {partition_of(e) for e in events} == {
        "audit_auditevent_p2025_01",
        "audit_auditevent_p2025_02",
        "audit_auditevent_p2025_03",
    }
    assert audit_chain_verify(key=chain_key(tenant.pk)).valid

    middle = events[3]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
        cursor.execute("UPDATE audit_auditevent SET resource_id = 'x' WHERE id = %s", [middle.pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update")
    report = audit_chain_verify(key=chain_key(tenant.pk))
    assert not report.valid and report.first_broken == str(middle.pk)


def test_a_partition_refuses_deletes():
    tenant = tenant_with_history("kept", [(2025, 1)])
    audit_partitions_ensure()
    old = AuditEvent.objects.filter(chain=chain_key(tenant.pk), ip__isnull=False).first()
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent_p2025_01 WHERE id = %s", [old.pk])


def test_redaction_works_in_an_old_partition():
    tenant = tenant_with_history("erased", [(2025, 1)])
    audit_partitions_ensure()
    old = AuditEvent.objects.filter(chain=chain_key(tenant.pk), ip__isnull=False)
    assert audit_redact(events=old) == 2
    assert audit_chain_verify(key=chain_key(tenant.pk)).valid


def test_archive_writes_the_months_and_drops_their_partitions(tmp_path):
    tenant = tenant_with_history("old", [(2016, 1), (2016, 2), (2016, 3)])
    audit_partitions_ensure()
    january = [
        archive_row(e)
        for e in AuditEvent.objects.filter(created_at__lt=at(2016, 2, 1)).order_by("chain", "seq")
    ]

    result = audit_archive_run(before=date(2016, 3, 1), out_dir=tmp_path)

    assert [f.name for f in result.files] == ["audit-2016-01.jsonl", "audit-2016-02.jsonl"]
    assert read_jsonl(tmp_path / "audit-2016-01.jsonl") == json.loads(json.dumps(january))
    assert not table_exists("audit_auditevent_p2016_01")
    assert not table_exists("audit_auditevent_p2016_02")
    assert table_exists("audit_auditevent_p2016_03")
    assert audit_chain_verify(key=chain_key(tenant.pk)).valid


def test_migration_converts_existing_rows_both_ways(tenant):
    event = audit_record(type="LOGIN", actor=Actor(type="user"), tenant_id=tenant.pk)
    with connection.schema_editor() as editor:
        migration.backwards(apps, editor)
    assert not audit_is_partitioned()
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash

    with connection.schema_editor() as editor:
        migration.forwards(apps, editor)
    assert audit_is_partitioned()
    assert partition_of(event) == partition_name(month_start(event.created_at))
    assert audit_chain_verify(key=chain_key(tenant.pk)).valid


def test_cleanup_creates_the_coming_months(capsys):
    ahead = partition_name(next_month(next_month(next_month(month_start(timezone.now())))))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {ahead}")

    call_command("cleanup")

    assert table_exists(ahead)
    assert "audit_partitions_created: 1" in capsys.readouterr().out
