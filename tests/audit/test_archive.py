"""`tessera audit archive`: old months go to JSON Lines with a manifest and leave the database,
the chain still verifies across the archive boundary, and retention or a legal hold refuses it."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tessera.audit.archive import ArchiveRefused, archive_row
from tessera.audit.archive_verify import audit_archive_verify
from tessera.audit.models import AuditChain, AuditEvent
from tessera.audit.selectors import audit_chain_verify
from tessera.audit.services import PLATFORM_CHAIN, audit_record, chain_key
from tessera.errors import ValidationFailed
from tessera.privacy.audit_retention import audit_archive_run
from tessera.tenancy.tenant_settings import parse_tenant_settings
from tests.audit.archive_helpers import (
    PERSON,
    at,
    clock,
    read_jsonl,
    tenant_settings,
    tenant_with_history,
)

MONTHS = [(2017, 1), (2017, 2), (2017, 3), (2017, 4)]

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Two tenants with events from January to April 2017, and one event of now."""
    acme = tenant_with_history("acme", MONTHS)
    globex = tenant_with_history("globex", MONTHS[1:])
    audit_record(type="LOGIN", actor=PERSON, tenant_id=acme.pk)
    return acme, globex


def _json(value):
    return json.loads(json.dumps(value, default=str))


def test_archive_writes_each_month_and_removes_it(history, tmp_path):
    acme, globex = history
    old = list(AuditEvent.objects.filter(created_at__lt=at(2017, 3, 1)).order_by("chain", "seq"))
    expected = {f"2017-{m:02d}": [] for m in (1, 2)}
    for event in old:
        expected[f"{event.created_at:%Y-%m}"].append(_json(archive_row(event)))

    result = audit_archive_run(before=date(2017, 3, 15), out_dir=tmp_path)

    assert [f.name for f in result.files] == ["audit-2017-01.jsonl", "audit-2017-02.jsonl"]
    for month, rows in expected.items():
        assert read_jsonl(tmp_path / f"audit-{month}.jsonl") == rows
    assert not AuditEvent.objects.filter(created_at__lt=at(2017, 3, 1)).exists()
    assert AuditEvent.objects.filter(created_at__gte=at(2017, 3, 1)).count() > 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["cutoff"].startswith("2017-03-01")
    assert manifest["events"] == len(old) == result.total
    span = manifest["chains"][chain_key(acme.pk)]
    head = AuditChain.objects.get(key=chain_key(acme.pk))
    assert (head.archived_length, head.archived_last_hash) == (span["last_seq"], span["last_hash"])
    assert span["first_seq"] == 1 and span["prev_hash"] == ""
    # the first event left in the database links to the archive's last hash
    first_left = AuditEvent.objects.filter(chain=chain_key(acme.pk)).order_by("seq").first()
    assert first_left.seq == span["last_seq"] + 1 and first_left.prev_hash == span["last_hash"]


def test_chains_verify_across_the_archive_boundary(history, tmp_path):
    acme, globex = history
    audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)

    for tenant in (acme, globex):
        report = audit_chain_verify(key=chain_key(tenant.pk))
        assert report.valid, report
    assert audit_chain_verify(key=PLATFORM_CHAIN).valid
    checked, problems = audit_archive_verify(tmp_path)
    assert problems == [] and checked == 2 * 3 + 2  # acme: creation + 2 + 2 (Jan, Feb); globex: 2


def test_a_second_archive_continues_the_first(history, tmp_path):
    acme, _ = history
    audit_archive_run(before=date(2017, 2, 1), out_dir=tmp_path / "one")
    audit_archive_run(before=date(2017, 4, 1), out_dir=tmp_path / "two")

    one = json.loads((tmp_path / "one" / "manifest.json").read_text())["chains"]
    two = json.loads((tmp_path / "two" / "manifest.json").read_text())["chains"]
    key = chain_key(acme.pk)
    assert two[key]["prev_hash"] == one[key]["last_hash"]
    assert two[key]["first_seq"] == one[key]["last_seq"] + 1
    assert audit_archive_verify(tmp_path / "two")[1] == []
    assert audit_chain_verify(key=key).valid


def test_the_archive_itself_is_an_audit_event(history, tmp_path):
    audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)

    event = AuditEvent.objects.filter(type="AUDIT_ARCHIVED").get()
    assert event.chain == PLATFORM_CHAIN
    assert event.changes["before"] == "2017-03-01"
    assert event.changes["files"] == ["audit-2017-01.jsonl", "audit-2017-02.jsonl"]
    assert event.changes["events"] == 8


def test_gzip_archive_verifies(history, tmp_path):
    result = audit_archive_run(before=date(2017, 2, 1), out_dir=tmp_path, compress=True)

    assert [f.name for f in result.files] == ["audit-2017-01.jsonl.gz"]
    lines = gzip.open(tmp_path / "audit-2017-01.jsonl.gz", "rt").read().splitlines()
    assert len(lines) == 3
    assert audit_archive_verify(tmp_path)[1] == []


def test_an_altered_archive_is_detected(history, tmp_path):
    audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)
    path = tmp_path / "audit-2017-02.jsonl"
    rows = read_jsonl(path)
    rows[1]["resource_id"] = "someone-else"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    checked, problems = audit_archive_verify(tmp_path)

    assert any("SHA-256" in p for p in problems)
    assert any("its content was altered" in p for p in problems)


def test_a_removed_archived_line_is_detected(history, tmp_path):
    audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)
    path = tmp_path / "audit-2017-01.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1] + lines[2:]))

    _, problems = audit_archive_verify(tmp_path)

    assert any("expected #2" in p for p in problems)


def test_retention_refuses_and_names_the_tenants(history, tmp_path):
    acme, globex = history
    tenant_settings(globex, audit_retention_days=36_500)
    before = AuditEvent.objects.count()

    with pytest.raises(ArchiveRefused) as refused:
        audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)

    assert "tenant globex: keeps audit events 36500 days" in str(refused.value)
    assert "acme" not in str(refused.value)
    assert AuditEvent.objects.count() == before
    assert not (tmp_path / "manifest.json").exists()


def test_a_legal_hold_refuses(history, tmp_path):
    acme, _ = history
    tenant_settings(acme, data_retention_exempt=True)

    with pytest.raises(ArchiveRefused, match="tenant acme: exempt from data retention"):
        audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)


def test_a_tenant_without_old_events_does_not_hold_the_archive(history, tmp_path):
    recent = tenant_with_history("initech", [(2017, 6)])
    tenant_settings(recent, data_retention_exempt=True)

    result = audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)

    assert chain_key(recent.pk) not in result.chains


def test_default_retention_keeps_seven_years(db, tmp_path):
    tenant_with_history("young", [(2022, 1)])

    with pytest.raises(ArchiveRefused, match="tenant young: keeps audit events 2557 days"):
        audit_archive_run(before=date(2022, 2, 1), out_dir=tmp_path)


def test_the_current_month_cannot_be_archived(db, tmp_path):
    with pytest.raises(ArchiveRefused, match="current month or later"):
        audit_archive_run(before=date(2999, 1, 1), out_dir=tmp_path)


def test_an_event_dated_out_of_order_refuses_the_cut(history, tmp_path):
    acme, _ = history
    with clock(at(2017, 1, 20)):  # written after the April events, dated January
        audit_record(type="LOGOUT", actor=PERSON, tenant_id=acme.pk)

    with pytest.raises(ArchiveRefused, match="the chains cannot be cut there"):
        audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)


def test_retention_settings_are_validated():
    with pytest.raises(ValidationFailed):
        parse_tenant_settings({"retention": {"audit_retention_days": 5}})
    with pytest.raises(ValidationFailed):
        parse_tenant_settings({"retention": {"data_retention_exempt": "sometimes"}})
    assert parse_tenant_settings({}).retention.audit_retention_days == 2557


def test_command_archives_and_verifies(history, tmp_path, capsys):
    out = tmp_path / "archive"
    call_command("audit", "archive", "--before", "2017-03-01", "--out", str(out))
    call_command("audit", "verify-archive", str(out))
    call_command("audit", "verify")

    printed = capsys.readouterr().out
    assert "archived 8 events of 2 chain(s) before 2017-03-01" in printed
    assert f"ok      {out}: 8 events" in printed


def test_command_refuses_clearly(history, tmp_path):
    acme, _ = history
    tenant_settings(acme, data_retention_exempt=True)
    with pytest.raises(CommandError, match="archive refused: retention still needs"):
        call_command("audit", "archive", "--before", "2017-03-01", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="is not a date"):
        call_command("audit", "archive", "--before", "last tuesday")
    with pytest.raises(CommandError, match="no manifest.json"):
        call_command("audit", "verify-archive", str(tmp_path / "nothing"))


def test_sqlite_removal_bypasses_the_guard_only_for_the_archive(history, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL drops partitions instead (tests/audit/test_partitions.py)")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(created_at__lt=at(2017, 3, 1)).delete()
    audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)
    assert not AuditEvent.objects.filter(created_at__lt=at(2017, 3, 1)).exists()


def test_an_existing_archive_is_never_overwritten(history, tmp_path):
    audit_archive_run(before=date(2017, 2, 1), out_dir=tmp_path)
    manifest = (tmp_path / "manifest.json").read_text()

    with pytest.raises(ArchiveRefused, match="already holds an archive"):
        audit_archive_run(before=date(2017, 3, 1), out_dir=tmp_path)

    assert (tmp_path / "manifest.json").read_text() == manifest
    assert AuditEvent.objects.filter(created_at__lt=at(2017, 3, 1)).exists()


def test_garbage_in_an_archive_is_reported_not_raised(history, tmp_path):
    audit_archive_run(before=date(2017, 2, 1), out_dir=tmp_path)
    path = tmp_path / "audit-2017-01.jsonl"
    path.write_text(path.read_text() + "not json\n" + '{"id": "x"}\n')

    _, problems = audit_archive_verify(tmp_path)

    assert "audit-2017-01.jsonl: line 4 is not an archived event" in problems
    assert "audit-2017-01.jsonl: line 5 is not an archived event" in problems
    (tmp_path / "manifest.json").write_text('{"format": "tessera-audit-archive/1"}')
    assert audit_archive_verify(tmp_path) == (0, ["manifest.json is not a valid archive manifest"])
