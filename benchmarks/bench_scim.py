"""SCIM provisioning on PostgreSQL, over real HTTP: 10,000 users created over
`POST /scim/v2/Users` (users/s), then `GET /scim/v2/Users?filter=userName eq "…"` at 100,000
members (p50, target ≤ 10 ms).

The server is `tessera serve` (uvicorn, `TESSERA_BENCH_SCIM_WORKERS` workers, default 2) on
TESSERA_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/tessera_bench_scim, created when
missing and kept between runs: a second run provisions another 10,000 users) and TESSERA_REDIS_URL
when set. The users are created as a directory creates them (Okta's body: name, work email,
externalId, enterprise department and employee number) by `TESSERA_BENCH_SCIM_CLIENTS` concurrent
keep-alive clients (default 4: Okta and Entra ID provision with a few parallel requests);
`TESSERA_BENCH_SCIM_USERS=0` skips them, to rerun the lookups on a database a run filled. The
tenant is then topped up to 100,000 members with `tessera seed-members`, and the lookup Okta and
Entra ID send before every create is timed for existing and unknown addresses, round-robin: one
client at a time (the latency a directory sees) and 16 at once (throughput), with the server's
CPU per lookup read from /proc.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from benchmarks.child import ensure_database, percentiles

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tessera_bench_scim"
PROVISION = int(os.environ.get("TESSERA_BENCH_SCIM_USERS", "10000"))
MEMBERS = int(os.environ.get("TESSERA_BENCH_MEMBERS", "100000"))
ROUNDS = int(os.environ.get("TESSERA_BENCH_ROUNDS", "500"))
CLIENTS = int(os.environ.get("TESSERA_BENCH_SCIM_CLIENTS", "4"))
WORKERS = int(os.environ.get("TESSERA_BENCH_SCIM_WORKERS", "2"))
TENANT = "bench-scim"
DOMAIN = "scim-bench.example.com"
ROOT = Path(__file__).resolve().parent.parent

NOTES = (
    f"Over real HTTP against `tessera serve --workers {WORKERS}` on PostgreSQL (+ Redis when "
    f"TESSERA_REDIS_URL is set), client and server on the same machine. {PROVISION:,} users "
    f"provisioned by {CLIENTS} concurrent clients, one `POST /scim/v2/Users` each (Okta's create "
    f"body); then {MEMBERS:,} members in the tenant and {ROUNDS} "
    '`filter=userName eq "…"` lookups (existing and unknown addresses, round-robin) after a '
    "warm-up, one at a time and from 16 clients. Target: lookup p50 ≤ 10 ms."
)


def _environment(url: str, var_dir: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "TESSERA_DATABASE_URL": url,
        "TESSERA_VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_RATE_LIMIT_API": "100000000/minute",
        "TESSERA_LOG_LEVEL": "WARNING",
        "TESSERA_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    environment.pop("TESSERA_ENV", None)
    return environment


def _child_setup() -> dict:
    """Migrate, make the tenant, and mint a SCIM token for this run."""
    import django

    django.setup()
    from django.core.management import call_command

    from tessera.administration.bootstrap import bootstrap
    from tessera.scim.tokens import scim_token_create

    call_command("migrate", verbosity=0, interactive=False)
    tenant = bootstrap(
        tenant_slug=TENANT,
        tenant_name="Bench SCIM",
        admin_email=f"bench-admin@{DOMAIN}",
        admin_password=None,
    ).tenant
    return {"token": scim_token_create(tenant=tenant, name=f"bench {uuid.uuid4()}", by=None).raw}


def _child_top_up() -> dict:
    """Fill the tenant to MEMBERS, analyse, and pick 50 addresses that exist."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tessera.tenancy.models import Membership

    have = Membership.objects.filter(tenant__slug=TENANT).count()
    if have < MEMBERS:
        call_command("seed-members", tenant=TENANT, count=MEMBERS - have, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    members = Membership.objects.filter(tenant__slug=TENANT)
    emails = list(members.order_by("?").values_list("user__email", flat=True)[:50])
    return {"members": members.count(), "emails": emails}


def _child(step: str, environment: dict[str, str]) -> dict:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "benchmarks.bench_scim", "--child", step],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
        cwd=str(ROOT),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its (worker) children, from /proc."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _serve(environment: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tessera.cli", "serve", "--port", str(port)]
        + ["--workers", str(WORKERS), "--log-level", "warning"],
        env=environment,
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300  # a loaded machine starts workers slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("tessera serve did not answer /healthz")


def _user_body(run: str, i: int) -> dict:
    email = f"p{i}-{run}@{DOMAIN}"
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


def _client(base: str, token: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    return httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60)


async def _provision(base: str, token: str) -> float:
    """Seconds to create PROVISION users with CLIENTS concurrent requests."""
    run = uuid.uuid4().hex[:8]
    queue = iter(range(PROVISION))
    async with _client(base, token, CLIENTS) as client:

        async def worker() -> None:
            for i in queue:
                answer = await client.post("/scim/v2/Users", content=json.dumps(_user_body(run, i)))
                if answer.status_code != 201:
                    raise RuntimeError(f"create answered {answer.status_code}: {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        return time.perf_counter() - started


async def _lookups(base: str, token: str, emails: list[str], clients: int) -> list[float]:
    samples: list[float] = []
    async with _client(base, token, clients) as client:

        async def lookup(i: int) -> None:
            email = emails[i % len(emails)]
            started = time.perf_counter()
            answer = await client.get("/scim/v2/Users", params={"filter": f'userName eq "{email}"'})
            samples.append(time.perf_counter() - started)
            expected = 0 if email.startswith("nobody") else 1
            if answer.status_code != 200 or answer.json()["totalResults"] != expected:
                raise RuntimeError(f"lookup of {email} answered {answer.status_code}")

        for i in range(len(emails)):  # warm-up: every worker's connection and caches
            await lookup(i)
        samples.clear()
        if clients == 1:
            for i in range(ROUNDS):
                await lookup(i)
        else:
            rounds = iter(range(ROUNDS * 4))

            async def worker() -> None:
                for i in rounds:
                    await lookup(i)

            await asyncio.gather(*(worker() for _ in range(clients)))
    return samples


def run() -> dict:
    url = os.environ.get("TESSERA_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    numbers: dict[str, float | int] = {}
    with tempfile.TemporaryDirectory(prefix="tessera-bench-scim-") as var_dir:
        environment = _environment(url, var_dir)
        token = _child("setup", environment)["token"]
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(environment, port)
        try:
            if PROVISION > 0:
                seconds = asyncio.run(_provision(base, token))
                numbers["provisioned_users"] = PROVISION
                numbers["provision_clients"] = CLIENTS
                numbers["provision_seconds"] = round(seconds, 1)
                numbers["provision_users_per_s"] = round(PROVISION / seconds, 1)

            top_up = _child("top-up", environment)
            numbers["members"] = top_up["members"]
            emails = top_up["emails"] + [f"nobody{i}@{DOMAIN}" for i in range(10)]
            random.Random(16).shuffle(emails)

            single = asyncio.run(_lookups(base, token, emails, 1))
            numbers["lookup_p50_ms"], numbers["lookup_p99_ms"] = (
                round(v, 2) for v in percentiles(single)
            )
            cpu_before, started = _cpu_seconds(server.pid), time.perf_counter()
            loaded = asyncio.run(_lookups(base, token, emails, 16))
            elapsed, cpu = time.perf_counter() - started, _cpu_seconds(server.pid) - cpu_before
            numbers["lookup_16_clients_per_s"] = round(len(loaded) / elapsed, 1)
            numbers["lookup_16_clients_p50_ms"], numbers["lookup_16_clients_p99_ms"] = (
                round(v, 2) for v in percentiles(loaded)
            )
            numbers["lookup_server_cpu_ms"] = round(1000 * cpu / (len(loaded) + len(emails)), 2)
        finally:
            server.terminate()
            server.wait(timeout=30)
    numbers["load_average_at_end"] = round(os.getloadavg()[0], 2)
    for key, value in numbers.items():
        print(f"  {key}: {value}")
    return numbers


if __name__ == "__main__":
    if "--child" in sys.argv:
        step = sys.argv[sys.argv.index("--child") + 1]
        print(json.dumps(_child_setup() if step == "setup" else _child_top_up()))
    else:
        run()
