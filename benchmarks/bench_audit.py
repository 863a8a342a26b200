"""Audit trail: write overhead per event; streamed export of 1,000,000 events in constant memory.

1. `audit_record` inside a caller's transaction (the normal case: the event is written with the
   change it records) — µs per event, p50/p99, on SQLite.
2. A tenant chain of `TESSERA_BENCH_AUDIT_EVENTS` (default 1,000,000) events, seeded with valid
   hashes in bulk, exported as JSON Lines through the same code as
   `GET /api/v1/audit-events/export` (`audit_iter` keyset batches → `export_jsonl`): events/s,
   and the peak Python heap while streaming (tracemalloc, measured on a second pass), which must
   not grow with the number of events.

Runs in a child interpreter on a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

EVENTS = int(os.environ.get("TESSERA_BENCH_AUDIT_EVENTS", "1000000"))
WRITES = int(os.environ.get("TESSERA_BENCH_AUDIT_WRITES", "2000"))

NOTES = (
    f"SQLite file database. Write: {WRITES} `audit_record` calls, each inside a caller's "
    f"transaction (hash chain head locked, commitment and hash computed, event inserted). Export: "
    f"{EVENTS:,} events of one tenant streamed as JSON Lines through `audit_iter` + "
    "`export_jsonl` (keyset batches of 2,000); memory = tracemalloc peak during a second, "
    "traced pass over a tenth and over all of the events (constant memory: the two peaks match)."
)


def _child() -> dict:
    import statistics
    import time
    import tracemalloc
    import uuid

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from tessera.audit.export import export_jsonl
    from tessera.audit.models import AuditChain, AuditEvent
    from tessera.audit.selectors import AuditFilters, audit_chain_verify, audit_iter
    from tessera.audit.services import audit_record, event_digest, event_pii_digest
    from tessera.tenancy.services import tenant_create

    call_command("migrate", verbosity=0)
    tenant = tenant_create(slug="bench", name="Bench")

    # 1. write overhead
    samples = []
    for i in range(WRITES):
        with transaction.atomic():
            started = time.perf_counter()
            audit_record(
                type="PROFILE_UPDATE",
                tenant_id=tenant.pk,
                resource_type="user",
                resource_id=str(i),
                changes={"first_name": ["a", "b"]},
            )
            samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()

    # 2. seed a long chain in bulk, continuing the tenant's chain
    key = str(tenant.pk)
    head = AuditChain.objects.get(key=key)
    prev, seq = head.last_hash, head.length
    started = time.perf_counter()
    batch = []
    now = timezone.now()
    for _ in range(EVENTS):
        seq += 1
        event = AuditEvent(
            id=uuid.uuid4(),
            seq=seq,
            chain=key,
            tenant_id=tenant.pk,
            actor_type="system",
            type="LOGIN",
            resource_type="session",
            resource_id=str(seq),
            changes={"n": seq},
            ip="192.0.2.1",
            user_agent="bench/1.0",
            request_id="",
            created_at=now,
            pii_salt=uuid.uuid4().hex,
            prev_hash=prev,
        )
        event.pii_hash = event_pii_digest(event)
        event.hash = prev = event_digest(event)
        batch.append(event)
        if len(batch) == 5000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    if batch:
        AuditEvent.objects.bulk_create(batch)
    AuditChain.objects.filter(key=key).update(last_hash=prev, length=seq)
    seed_seconds = time.perf_counter() - started

    filters = AuditFilters()

    def export(limit=None) -> tuple[int, int]:
        count = size = 0
        for line in export_jsonl(audit_iter(tenant=tenant, filters=filters)):
            count += 1
            size += len(line)
            if limit and count >= limit:
                break
        return count, size

    started = time.perf_counter()
    exported, size = export()
    export_seconds = time.perf_counter() - started

    tracemalloc.start()
    export(limit=max(1, EVENTS // 10))
    _, peak_tenth = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    export()
    _, peak_all = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    started = time.perf_counter()
    report = audit_chain_verify(key=key)
    verify_seconds = time.perf_counter() - started
    return {
        "audit_write_p50_us": round(statistics.median(samples), 1),
        "audit_write_p99_us": round(samples[int(0.99 * (len(samples) - 1))], 1),
        "export_events": exported,
        "export_mb": round(size / 1e6, 1),
        "export_events_per_s": round(exported / export_seconds),
        "export_seconds": round(export_seconds, 1),
        "export_peak_heap_mb_tenth": round(peak_tenth / 1e6, 2),
        "export_peak_heap_mb_all": round(peak_all / 1e6, 2),
        "verify_events_per_s": round(report.checked / verify_seconds),
        "verify_valid": report.valid,
        "seed_seconds": round(seed_seconds, 1),
    }


def run() -> dict:
    with tempfile.TemporaryDirectory(prefix="tessera-bench-audit-") as var:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
        env.update(
            TESSERA_VAR_DIR=var,
            DJANGO_SETTINGS_MODULE="tessera.settings",
            TESSERA_BENCH_AUDIT_EVENTS=str(EVENTS),
            TESSERA_BENCH_AUDIT_WRITES=str(WRITES),
            TESSERA_LOG_LEVEL="WARNING",
        )
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from benchmarks.bench_audit import _child; import json; "
                "print('RESULT ' + json.dumps(_child()))",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        for line in done.stdout.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT ") :])
        raise RuntimeError(f"audit benchmark failed:\n{done.stdout}\n{done.stderr}")


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
