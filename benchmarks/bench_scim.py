"""SCIM provisioning on PostgreSQL: 10,000 users created over `POST /scim/v2/Users` (users/s),
then `GET /scim/v2/Users?filter=userName eq "…"` at 100,000 members (p50, target ≤ 10 ms).

The users are created as a directory creates them (Okta's body: name, work email, externalId,
enterprise department and employee number), in-process through the whole middleware stack with
the tenant's SCIM token. The tenant is then topped up to 100,000 members with `tessera
seed-members`, and the lookup Okta and Entra ID send before every create is timed for existing
and unknown addresses, round-robin. Database: TESSERA_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/tessera_bench_scim, created when missing, kept between runs:
a second run provisions another 10,000 users). The measurement runs in a child process, as the
member-search benchmark does.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid

from benchmarks.child import percentiles, run_child

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tessera_bench_scim"
PROVISION = int(os.environ.get("TESSERA_BENCH_SCIM_USERS", "10000"))
MEMBERS = int(os.environ.get("TESSERA_BENCH_MEMBERS", "100000"))
ROUNDS = int(os.environ.get("TESSERA_BENCH_ROUNDS", "300"))
TENANT = "bench-scim"

NOTES = (
    f"{PROVISION:,} users provisioned over SCIM one request each (Okta's create body, full "
    f"middleware stack, in-process), then {MEMBERS:,} members in the tenant and {ROUNDS} "
    '`filter=userName eq "…"` lookups (existing and unknown addresses, round-robin) after a '
    "warm-up. Target: lookup p50 ≤ 10 ms."
)


def _child() -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tessera.administration.bootstrap import bootstrap
    from tessera.scim.tokens import scim_token_create
    from tessera.tenancy.models import Membership

    call_command("migrate", verbosity=0, interactive=False)
    tenant = bootstrap(
        tenant_slug=TENANT,
        tenant_name="Bench SCIM",
        admin_email="bench-admin@scim-bench.example.com",
        admin_password=None,
    ).tenant
    token = scim_token_create(tenant=tenant, name="bench", by=None).raw
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    run = uuid.uuid4().hex[:8]
    numbers: dict[str, float | int] = {}

    def body(i: int) -> dict:
        email = f"p{i}-{run}@scim-bench.example.com"
        return {
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            ],
            "userName": email,
            "name": {"givenName": "Pat", "familyName": f"Person{i}"},
            "emails": [{"value": email, "type": "work", "primary": True}],
            "externalId": f"00u{run}{i}",
            "active": True,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": ("QA", "QC", "R&D", "Sales")[i % 4],
                "employeeNumber": f"{run}-{i}",
            },
        }

    started = time.perf_counter()
    for i in range(PROVISION):
        answer = client.post("/scim/v2/Users", json.dumps(body(i)), "application/scim+json")
        assert answer.status_code == 201, answer.content
    elapsed = time.perf_counter() - started
    numbers["provisioned_users"] = PROVISION
    numbers["provision_seconds"] = round(elapsed, 1)
    numbers["provision_users_per_s"] = round(PROVISION / elapsed, 1)
    numbers["provision_ms_per_user"] = round(1000 * elapsed / PROVISION, 2)

    have = Membership.objects.filter(tenant=tenant).count()
    if have < MEMBERS:
        call_command("seed-members", tenant=TENANT, count=MEMBERS - have, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    numbers["members"] = Membership.objects.filter(tenant=tenant).count()

    emails = list(
        Membership.objects.filter(tenant=tenant)
        .order_by("?")
        .values_list("user__email", flat=True)[:50]
    )
    emails += [f"nobody{i}@scim-bench.example.com" for i in range(10)]
    random.Random(16).shuffle(emails)

    def lookup(email: str):
        return client.get("/scim/v2/Users", {"filter": f'userName eq "{email}"'})

    for email in emails:  # warm-up
        assert lookup(email).status_code == 200
    samples = []
    for i in range(ROUNDS):
        email = emails[i % len(emails)]
        started = time.perf_counter()
        answer = lookup(email)
        samples.append(time.perf_counter() - started)
        assert answer.status_code == 200
        assert answer.json()["totalResults"] == (0 if email.startswith("nobody") else 1)
    numbers["lookup_p50_ms"], numbers["lookup_p99_ms"] = (round(v, 2) for v in percentiles(samples))
    return numbers


def run() -> dict:
    return run_child(
        "benchmarks.bench_scim",
        default_url=DEFAULT_URL,
        env={"TESSERA_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"},
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(_child()))
    else:
        run()
