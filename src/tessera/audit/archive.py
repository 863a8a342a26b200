"""Moving old audit events out of the database into JSON Lines files, one per month.

`audit_archive_write` streams every event before a month boundary (the cutoff) into
`audit-YYYY-MM.jsonl[.gz]` (every column, ordered by chain and position) and writes
`manifest.json`: per file its count and SHA-256, per chain the archived span (first and last
position, the hash before the first event and the last hash) so the chain can be verified across
the archive boundary. `audit_archive_drop` then removes those events — on PostgreSQL it detaches
and drops the month partitions, on SQLite it deletes the rows, bypassing the append-only guard on
purpose — and records on each chain head where its archived prefix ends.

Retention (who may lose which events) is decided above this layer (tessera.privacy).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, cast

from django.db import connection, models, transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncMonth
from django.utils import timezone

from tessera.audit.models import AuditChain, AuditEvent
from tessera.audit.partitions import (
    TABLE,
    audit_is_partitioned,
    audit_partition_drop,
    audit_partitions,
    audit_partitions_ensure,
    month_start,
    next_month,
)

MANIFEST = "manifest.json"
FORMAT = "tessera-audit-archive/1"
BATCH = 2000


class ArchiveRefused(Exception):
    """The archive cannot proceed; the message says why (nothing was removed)."""


@dataclass(slots=True)
class ChainSpan:
    first_seq: int
    last_seq: int
    prev_hash: str  # the hash before first_seq ("" when the chain starts here)
    last_hash: str
    count: int = 0


@dataclass(frozen=True, slots=True)
class ArchivedFile:
    name: str
    month: str
    count: int
    sha256: str


@dataclass(slots=True)
class ArchiveResult:
    cutoff: datetime
    files: list[ArchivedFile] = field(default_factory=list)
    chains: dict[str, ChainSpan] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(f.count for f in self.files)


def archive_cutoff(before: date) -> datetime:
    """The month boundary at or before `before` (UTC): only whole months are archived."""
    return datetime(before.year, before.month, 1, tzinfo=UTC)


def audit_chains_before(cutoff: datetime) -> dict[str, tuple[int, int, int]]:
    """Per chain with events before the cutoff: (first position, last position, count)."""
    rows = (
        AuditEvent.objects.filter(created_at__lt=cutoff)
        .order_by()
        .values("chain")
        .annotate(first=Min("seq"), last=Max("seq"), count=Count("id"))
    )
    return {row["chain"]: (row["first"], row["last"], row["count"]) for row in rows}


def archive_problems(cutoff: datetime, spans: dict[str, tuple[int, int, int]]) -> list[str]:
    """Why the events before the cutoff are not a clean prefix of each chain ([] when they are)."""
    heads = dict(AuditChain.objects.filter(key__in=spans).values_list("key", "archived_length"))
    problems = []
    for key, (first, last, count) in sorted(spans.items()):
        if first != heads.get(key, 0) + 1:
            problems.append(f"chain {key}: its oldest event in the database is #{first}")
        elif last - first + 1 != count:
            problems.append(f"chain {key}: positions #{first}-#{last} are not contiguous")
        elif AuditEvent.objects.filter(chain=key, seq__lt=last, created_at__gte=cutoff).exists():
            problems.append(f"chain {key}: events before #{last} are dated after the cutoff")
    return problems


def archive_months(cutoff: datetime) -> list[datetime]:
    """The months wholly before the cutoff that hold (or on PostgreSQL, partition) events."""
    if audit_is_partitioned():
        return [p.start for p in audit_partitions() if p.end <= cutoff]
    months = (
        AuditEvent.objects.filter(created_at__lt=cutoff)
        .annotate(month=TruncMonth("created_at", tzinfo=UTC))
        .order_by("month")
        .values_list("month", flat=True)
        .distinct()
    )
    return [month_start(month) for month in months]


def archive_row(event: AuditEvent) -> dict[str, Any]:
    """Every column of the event, as JSON (what `archive_event` turns back into an event)."""
    row: dict[str, Any] = {}
    for model_field in AuditEvent._meta.concrete_fields:
        value = getattr(event, model_field.attname)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif value is not None and not isinstance(value, str | int | dict | list | bool):
            value = str(value)
        row[model_field.attname] = value
    return row


def archive_event(row: dict[str, Any]) -> AuditEvent:
    """An (unsaved) event from an archived row, for verifying its hashes; ValueError when the row
    does not hold exactly the event's columns."""
    columns = {f.attname for f in AuditEvent._meta.concrete_fields}
    if not isinstance(row, dict) or set(row) != columns:
        raise ValueError("not an archived audit event")
    values = dict(row)
    for name in ("created_at", "redacted_at"):
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    return AuditEvent(**values)


def _month_events(month: datetime) -> Iterator[AuditEvent]:
    """The month's events by chain and position, in keyset batches (constant memory)."""
    qs = AuditEvent.objects.filter(created_at__gte=month, created_at__lt=next_month(month))
    after: tuple[str, int] | None = None
    while True:
        page = qs
        if after is not None:
            page = page.filter(
                models.Q(chain__gt=after[0]) | models.Q(chain=after[0], seq__gt=after[1])
            )
        rows = list(page.order_by("chain", "seq")[:BATCH])
        if not rows:
            return
        yield from rows
        after = (rows[-1].chain, rows[-1].seq)


def _follow(spans: dict[str, ChainSpan], event: AuditEvent) -> None:
    span = spans.get(event.chain)
    if span is None:
        spans[event.chain] = ChainSpan(event.seq, event.seq, event.prev_hash, event.hash, 1)
        return
    if event.seq != span.last_seq + 1 or event.prev_hash != span.last_hash:
        raise ArchiveRefused(
            f"chain {event.chain} is broken at #{event.seq}; run `tessera audit verify`"
        )
    span.last_seq, span.last_hash, span.count = event.seq, event.hash, span.count + 1


def _write_month(path: Path, month: datetime, spans: dict[str, ChainSpan], compress: bool) -> int:
    count = 0
    stream = cast(IO[bytes], gzip.open(path, "wb") if compress else path.open("wb"))
    with stream:
        for event in _month_events(month):
            _follow(spans, event)
            line = json.dumps(archive_row(event), separators=(",", ":"), sort_keys=True)
            stream.write(line.encode() + b"\n")
            count += 1
    return count


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def audit_archive_write(
    *, cutoff: datetime, out_dir: Path, compress: bool = False
) -> ArchiveResult:
    """Write the events before the cutoff to `out_dir` (one file per month) and a manifest."""
    if (out_dir / MANIFEST).exists():
        raise ArchiveRefused(f"{out_dir} already holds an archive; choose an empty directory")
    audit_partitions_ensure()  # rows stranded in the default partition get their month's
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ArchiveResult(cutoff=cutoff)
    suffix = ".jsonl.gz" if compress else ".jsonl"
    for month in archive_months(cutoff):
        path = out_dir / f"audit-{month:%Y-%m}{suffix}"
        count = _write_month(path, month, result.chains, compress)
        if not count:
            path.unlink()
            continue
        result.files.append(ArchivedFile(path.name, f"{month:%Y-%m}", count, file_sha256(path)))
    manifest = {
        "format": FORMAT,
        "cutoff": cutoff.isoformat(),
        "written_at": timezone.now().isoformat(),
        "events": result.total,
        "files": [asdict(f) for f in result.files],
        "chains": {key: asdict(span) for key, span in sorted(result.chains.items())},
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return result


def _rows_before(cutoff: datetime) -> int:
    if not audit_is_partitioned():
        return AuditEvent.objects.filter(created_at__lt=cutoff).count()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE created_at < %s", [cutoff])  # noqa: S608 (constant table names)
        return cursor.fetchone()[0]


def audit_archive_drop(result: ArchiveResult) -> int:
    """Remove the archived events (call inside a transaction); returns how many it removed.

    Refuses when the database holds other events before the cutoff than the archive does (an
    event written meanwhile), so nothing unarchived is ever removed.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_archive_drop must run inside a transaction")
    if audit_is_partitioned():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
    present = _rows_before(result.cutoff)
    if present != result.total:
        raise ArchiveRefused(
            f"{present} events before the cutoff, {result.total} archived; run the archive again"
        )
    if audit_is_partitioned():
        for partition in audit_partitions():
            if partition.end <= result.cutoff:
                audit_partition_drop(partition)
    else:  # the one deletion of audit events there is: bypasses the append-only guard on purpose
        models.QuerySet.delete(AuditEvent.objects.filter(created_at__lt=result.cutoff))
    for key, span in result.chains.items():
        AuditChain.objects.filter(key=key).update(
            archived_length=span.last_seq, archived_last_hash=span.last_hash
        )
    return present
