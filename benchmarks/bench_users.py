"""Member search at 100,000 members on PostgreSQL: `GET /api/v1/users?q=…&limit=50` vs the admin.

Seeds a tenant with 100,000 members (`tessera seed-members`, timed) in the database named by
TESSERA_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/tessera_bench, created when
missing), then measures, in-process through the whole middleware stack, the API's member search
and the Django admin's user changelist searching the same terms. Target: API p50 ≤ 30 ms.

The measurement runs in a child process (benchmarks.child).
"""

from __future__ import annotations

import json
import os
import sys
import time

from benchmarks.child import percentiles, run_child

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tessera_bench"
MEMBERS = int(os.environ.get("TESSERA_BENCH_MEMBERS", "100000"))
ROUNDS = int(os.environ.get("TESSERA_BENCH_ROUNDS", "60"))
TERMS = ("smith", "ada", "berg", "nadia.wong", "12345", "qa-nobody")
TENANT = "bench-users"
ADMIN_EMAIL = "bench-admin@bench.example"

NOTES = (
    f"{MEMBERS:,} members in one tenant on PostgreSQL; in-process requests through the full "
    "middleware stack (Django test client, Bearer token / admin session, X-Tenant header), "
    "search terms "
    f"{', '.join(TERMS)} round-robin, {ROUNDS} requests per term after a warm-up. "
    "`ratio` = admin changelist p50 / API p50. Target: API p50 ≤ 30 ms."
)


def _child() -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tessera.administration.bootstrap import bootstrap
    from tessera.tenancy.models import Membership

    call_command("migrate", verbosity=0, interactive=False)
    result = bootstrap(
        tenant_slug=TENANT, tenant_name="Bench users", admin_email=ADMIN_EMAIL, admin_password=None
    )
    tenant, admin = result.tenant, result.user
    numbers: dict[str, float | int] = {}
    have = Membership.objects.filter(tenant=tenant).count() - 1
    if have < MEMBERS:
        started = time.perf_counter()
        call_command("seed-members", tenant=TENANT, count=MEMBERS - have, verbosity=0)
        numbers["seed_seconds"] = round(time.perf_counter() - started, 1)
        numbers["seeded_members"] = MEMBERS - have
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    numbers["members"] = Membership.objects.filter(tenant=tenant).count()

    from tessera.testing import admin_session_login, api_session_login

    client = Client()
    admin_session_login(client, admin)  # /admin/: the admin site's session
    api_session_login(client, admin, tenant)  # /api/: a Bearer token bound to the tenant
    headers = {"X-Tenant": TENANT}

    def measure(path: str, extra: dict) -> list[float]:
        for term in TERMS:  # warm-up
            assert client.get(path, {"q": term, **extra}, headers=headers).status_code == 200
        samples = []
        for i in range(ROUNDS * len(TERMS)):
            term = TERMS[i % len(TERMS)]
            started = time.perf_counter()
            response = client.get(path, {"q": term, **extra}, headers=headers)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
        return samples

    api = measure("/api/v1/users", {"limit": 50})
    admin_ui = measure("/admin/identity/user/", {})
    numbers["api_p50_ms"], numbers["api_p99_ms"] = (round(v, 2) for v in percentiles(api))
    numbers["admin_p50_ms"], numbers["admin_p99_ms"] = (round(v, 2) for v in percentiles(admin_ui))
    numbers["ratio_admin_over_api_p50"] = round(numbers["admin_p50_ms"] / numbers["api_p50_ms"], 2)
    return numbers


def run() -> dict:
    return run_child("benchmarks.bench_users", default_url=DEFAULT_URL)


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(_child()))
    else:
        run()
