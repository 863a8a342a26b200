"""Audit at scale on PostgreSQL: newest-first listing at 1M and 10M events (monthly partitions).

For each size in TESSERA_BENCH_AUDIT_SIZES (default 1,000,000 and 10,000,000) the audit table
is emptied and filled in SQL (`INSERT … SELECT generate_series`, not the ORM) with that many
events over the last 24 months, round-robin over TESSERA_BENCH_AUDIT_CHAINS chains (default
300: the benchmark tenant's and 299 others); within a chain positions rise with time, so each
month's events sit in their month's partition. Then, after ANALYZE and a warm-up:

- `audit_page` (the selector `GET /api/v1/audit-events` uses), first page of 50, newest first,
  of the benchmark tenant, and of random other tenants (one each round);
- `GET /api/v1/audit-events` over the whole middleware stack (Django test client, Bearer token).

p50/p99 in ms; flat from 1M to 10M is the target (issue #18). The hashes are placeholders
(verification is not measured here: see bench_audit). Database: TESSERA_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/tessera_bench_audit_partitions, created when missing).
Not part of `make test`; run alone with `python -m benchmarks audit_partitions`.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from datetime import timedelta

from benchmarks.child import percentiles, run_child

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tessera_bench_audit_partitions"
SIZES = [int(n) for n in os.environ.get("TESSERA_BENCH_AUDIT_SIZES", "1000000,10000000").split(",")]
CHAINS = int(os.environ.get("TESSERA_BENCH_AUDIT_CHAINS", "300"))
ROUNDS = int(os.environ.get("TESSERA_BENCH_ROUNDS", "300"))
CHUNK = 1_000_000
SPAN_SECONDS = 730 * 24 * 3600
TENANT = "bench-audit"

NOTES = (
    f"PostgreSQL, audit table partitioned by month (migration audit 0011). Sizes "
    f"{', '.join(f'{n:,}' for n in SIZES)} events over 24 months, {CHAINS} chains round-robin, "
    f"filled in SQL. Listing = first page (50) newest first: `audit_page` for the benchmark "
    f"tenant and for random tenants, and `GET /api/v1/audit-events` (full stack); {ROUNDS} "
    "rounds each after a warm-up. Target: flat p50 from 1M to 10M."
)

FILL = """
INSERT INTO audit_auditevent (
    id, seq, chain, tenant_id, actor_type, actor_user_id, type, resource_type, resource_id,
    changes, ip, user_agent, request_id, created_at, pii_salt, pii_hash, prev_hash, hash
)
SELECT
    gen_random_uuid(),
    g / %(chains)s + 1,
    c.key,
    c.key::uuid,
    'user',
    md5('actor' || (g %% 997))::uuid,
    (ARRAY['LOGIN', 'LOGOUT', 'PROFILE_UPDATE', 'ROLE_ASSIGNED', 'LOGIN_FAILED'])[1 + g %% 5],
    'user',
    (g %% 1000)::text,
    jsonb_build_object('n', g),
    '192.0.2.1'::inet,
    'bench/1.0',
    '',
    %(start)s::timestamptz + (g::float8 / %(size)s) * %(span)s * interval '1 second',
    md5(g::text),
    md5(g::text) || md5('p' || g),
    CASE WHEN g < %(chains)s THEN ''
         ELSE md5((g - %(chains)s)::text) || md5('h' || (g - %(chains)s)) END,
    md5(g::text) || md5('h' || g)
FROM generate_series(%(low)s, %(high)s - 1) AS g
JOIN (
    SELECT i AS idx, CASE WHEN i = 0 THEN %(tenant)s ELSE md5('chain' || i)::uuid::text END AS key
    FROM generate_series(0, %(chains)s - 1) AS i
) AS c ON c.idx = g %% %(chains)s
"""


KEYS = {
    "audit_auditevent_pkey": "PRIMARY KEY (id, created_at)",
    "audit_event_chain_seq_unique": "UNIQUE (chain, seq, created_at)",
}


def _indexes(cursor) -> list[str]:
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_auditevent' "
        "AND schemaname = current_schema()"
    )
    return [d.replace(" ON ONLY ", " ON ") for name, d in cursor.fetchall() if name not in KEYS]


def _fill(cursor, *, size: int, tenant_key: str, start) -> float:
    """Empty the table and load `size` events; the keys and indexes are dropped for the load and
    built again after it (a bulk build is several times faster than index maintenance per row)."""
    started = time.perf_counter()
    cursor.execute("SET maintenance_work_mem = '256MB'")
    cursor.execute("SET synchronous_commit = off")
    cursor.execute("TRUNCATE audit_auditevent")
    indexes = _indexes(cursor)
    for name in KEYS:
        cursor.execute(f"ALTER TABLE audit_auditevent DROP CONSTRAINT {name}")
    for definition in indexes:
        cursor.execute("DROP INDEX " + definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0])
    for low in range(0, size, CHUNK):
        cursor.execute(
            FILL,
            {
                "chains": CHAINS,
                "start": start,
                "size": size,
                "span": SPAN_SECONDS,
                "low": low,
                "high": min(size, low + CHUNK),
                "tenant": tenant_key,
            },
        )
        print(f"  filled {min(size, low + CHUNK):,}", file=sys.stderr, flush=True)
    for name, key in KEYS.items():
        cursor.execute(f"ALTER TABLE audit_auditevent ADD CONSTRAINT {name} {key}")
    for definition in indexes:
        cursor.execute(definition)
    cursor.execute("ANALYZE audit_auditevent")
    return time.perf_counter() - started


def _plan_ms(cursor, key: str) -> tuple[float, float]:
    """(planning, execution) ms of the selector's first-page query, from EXPLAIN ANALYZE."""
    cursor.execute(
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM audit_auditevent WHERE chain = %s "
        "ORDER BY seq DESC LIMIT 51",
        [key],
    )
    plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return round(plan["Planning Time"], 2), round(plan["Execution Time"], 2)


def _timed(call, rounds: int) -> tuple[float, float]:
    for _ in range(20):
        call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return tuple(round(v, 2) for v in percentiles(samples))  # type: ignore[return-value]


def _child() -> dict:
    import django

    django.setup()
    from types import SimpleNamespace

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from tessera.administration.bootstrap import bootstrap
    from tessera.audit.models import AuditChain, AuditEvent
    from tessera.audit.partitions import audit_partitions, audit_partitions_ensure
    from tessera.audit.selectors import AuditFilters, audit_page
    from tessera.tenancy.models import Tenant
    from tessera.testing import api_session_login

    call_command("migrate", verbosity=0, interactive=False)
    existing = Tenant.objects.filter(slug=TENANT).first()
    if existing is None:
        result = bootstrap(
            tenant_slug=TENANT,
            tenant_name="Bench audit",
            admin_email="bench-admin@audit-bench.example.com",
            admin_password=None,
        )
        tenant, admin = result.tenant, result.user
    else:
        tenant = existing
        admin = tenant.memberships.select_related("user").first().user
    key = str(tenant.pk)
    now = timezone.now()
    start = now - timedelta(seconds=SPAN_SECONDS)
    numbers: dict[str, float | int] = {}
    client = Client()
    headers = {"X-Tenant": TENANT}
    others = [SimpleNamespace(pk=uuid.UUID(key)) for key in _other_keys(connection)]
    for size in SIZES:
        label = f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"
        with connection.cursor() as cursor:
            numbers[f"fill_{label}_seconds"] = round(
                _fill(cursor, size=size, tenant_key=key, start=start), 1
            )
        audit_partitions_ensure()
        last = AuditEvent.objects.filter(chain=key).order_by("-seq").first()
        AuditChain.objects.update_or_create(
            key=key, defaults={"length": last.seq, "last_hash": last.hash, "archived_length": 0}
        )
        api_session_login(client, admin, tenant)
        numbers[f"partitions_{label}"] = len(audit_partitions())
        numbers[f"tenant_events_{label}"] = last.seq
        filters = AuditFilters()

        def own(filters=filters):
            rows, _ = audit_page(tenant=tenant, filters=filters, before_seq=None, limit=50)
            assert len(rows) == 50

        def other(filters=filters):
            rows, _ = audit_page(
                tenant=random.choice(others), filters=filters, before_seq=None, limit=50
            )
            assert len(rows) == 50

        def http():
            answer = client.get("/api/v1/audit-events", headers=headers)
            assert answer.status_code == 200, answer.content[:300]
            assert len(answer.json()["items"]) == 50

        p50, p99 = _timed(own, ROUNDS)
        numbers[f"selector_{label}_p50_ms"], numbers[f"selector_{label}_p99_ms"] = p50, p99
        p50, p99 = _timed(other, ROUNDS)
        numbers[f"selector_random_tenant_{label}_p50_ms"] = p50
        numbers[f"selector_random_tenant_{label}_p99_ms"] = p99
        p50, p99 = _timed(http, ROUNDS)
        numbers[f"http_{label}_p50_ms"], numbers[f"http_{label}_p99_ms"] = p50, p99
        with connection.cursor() as cursor:
            plans = [_plan_ms(cursor, key) for _ in range(20)]
        numbers[f"explain_{label}_planning_ms_median"] = sorted(p for p, _ in plans)[10]
        numbers[f"explain_{label}_execution_ms_median"] = sorted(e for _, e in plans)[10]
        numbers[f"load_average_{label}"] = round(os.getloadavg()[0], 2)
        print(json.dumps(numbers), file=sys.stderr, flush=True)
    return numbers


def _other_keys(connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5('chain' || i)::uuid::text FROM generate_series(1, %s - 1) AS i", [CHAINS]
        )
        return [key for (key,) in cursor.fetchall()]


def run() -> dict:
    return run_child("benchmarks.bench_audit_partitions", default_url=DEFAULT_URL)


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(_child()))
    else:
        run()
