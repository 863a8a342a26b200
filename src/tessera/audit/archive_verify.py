"""Verifying an audit archive directory (`tessera audit verify-archive DIR`) without the database.

Every file must match the manifest's SHA-256 and count; every event's hash must recompute and link
to the one before it in its chain, from the manifest's `prev_hash` (the hash before the archived
span: "" for a chain's start, or the last hash of the previous archive) to its `last_hash` —
which is the `prev_hash` of the chain's oldest event left in the database (or in the next archive).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from tessera.audit.archive import FORMAT, MANIFEST, ChainSpan, archive_event, file_sha256
from tessera.audit.selectors import personal_fields_broken
from tessera.audit.services import event_digest


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    compressed = path.name.endswith(".gz")
    stream = cast(IO[bytes], gzip.open(path, "rb") if compressed else path.open("rb"))
    with stream:
        for line in stream:
            try:
                yield json.loads(line)
            except ValueError:
                yield {}  # not JSON: reported as not an archived event


def _check_file(
    path: Path, spans: dict[str, ChainSpan], expected: dict[str, Any]
) -> tuple[int, list[str]]:
    problems = []
    count = 0
    for number, row in enumerate(_lines(path), start=1):
        count += 1
        try:
            event = archive_event(row)
        except (TypeError, ValueError, AttributeError):
            problems.append(f"{path.name}: line {number} is not an archived event")
            continue
        span = spans.get(event.chain)
        if span is None:
            problems.append(f"{path.name}: chain {event.chain} is not in the manifest")
            span = ChainSpan(event.seq, event.seq - 1, event.prev_hash, event.prev_hash)
            spans[event.chain] = span
        where = f"{path.name}: chain {event.chain} #{event.seq}"
        if event.seq != span.last_seq + 1:
            problems.append(f"{where}: expected #{span.last_seq + 1}")
        elif event.prev_hash != span.last_hash:
            problems.append(f"{where}: its link to the previous event")
        elif broken := personal_fields_broken(event):
            problems.append(f"{where}: {broken}")
        elif event_digest(event) != event.hash:
            problems.append(f"{where}: its content was altered")
        span.last_seq, span.last_hash, span.count = event.seq, event.hash, span.count + 1
    if count != expected["count"]:
        problems.append(f"{path.name}: {count} events, the manifest says {expected['count']}")
    return count, problems


def audit_archive_verify(directory: Path) -> tuple[int, list[str]]:
    """(events checked, problems); no problems means the archive is complete and unaltered."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return 0, [f"no {MANIFEST} in {directory}"]
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT:
            return 0, [f"unknown archive format {manifest.get('format')!r}"]
        declared = {key: ChainSpan(**span) for key, span in manifest["chains"].items()}
        entries = sorted(manifest["files"], key=lambda f: f["month"])
        for entry in entries:
            entry["name"], entry["count"], entry["sha256"]  # noqa: B018 (present, or KeyError)
    except (ValueError, TypeError, KeyError, AttributeError):
        return 0, [f"{MANIFEST} is not a valid archive manifest"]
    # walk state per chain: starts just before the declared span
    spans = {
        key: ChainSpan(span.first_seq, span.first_seq - 1, span.prev_hash, span.prev_hash)
        for key, span in declared.items()
    }
    problems: list[str] = []
    checked = 0
    for entry in entries:
        path = directory / Path(entry["name"]).name
        if not path.is_file():
            problems.append(f"{entry['name']} is missing")
            continue
        if file_sha256(path) != entry["sha256"]:
            problems.append(f"{entry['name']}: its SHA-256 differs from the manifest's")
        count, found = _check_file(path, spans, entry)
        checked += count
        problems += found
    for key, span in declared.items():
        walked = spans[key]
        if (walked.last_seq, walked.last_hash) != (span.last_seq, span.last_hash):
            problems.append(
                f"chain {key}: ends at #{walked.last_seq}, the manifest says #{span.last_seq}"
            )
    return checked, problems
