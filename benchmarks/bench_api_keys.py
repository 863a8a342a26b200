"""API keys: the cost of authenticating a request that carries one, in process.

`tessera.authn.request_auth.authenticate_request` on a RequestFactory request with
`X-API-Key: tsk_…` (parse, SHA-256, the key row from the in-process cache, the live state check
— one indexed SQLite query, or one Redis MGET when Redis is configured — IP allowlist, expiry,
usage counted in memory), in µs. "warm" is the steady state; "cold" forgets the cached key rows
before every request (the row is read from the database each time, as after a revocation or in
a fresh process). Target: warm p50 ≤ 150 µs.

Each configuration runs in a child interpreter on a fresh SQLite file under a temporary
directory (and, for the Redis rows, Redis database 13 of $TESSERA_BENCH_API_KEYS_REDIS_URL,
default redis://127.0.0.1:6379/13, when it answers).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

ROUNDS = int(os.environ.get("TESSERA_BENCH_API_KEY_ROUNDS", "5000"))
REDIS_URL = os.environ.get("TESSERA_BENCH_API_KEYS_REDIS_URL", "redis://127.0.0.1:6379/13")

NOTES = (
    f"In process, {ROUNDS} API-key authentications per row after a warm-up "
    "(authenticate_request on a RequestFactory request with X-API-Key and an IP allowlist). "
    "warm = key row cached in process, live state checked every time; cold = key row read from "
    "the database on every request. SQLite file database; the Redis rows use a local Redis."
)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return statistics.median(ordered), p99


def _child() -> dict:
    import time

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import RequestFactory

    from tessera.access.services.assignments import role_assign_system
    from tessera.authn import api_keys
    from tessera.authn.request_auth import authenticate_request
    from tessera.identity.models import User
    from tessera.tenancy.services import membership_create, tenant_create

    call_command("migrate", verbosity=0, interactive=False)
    cache.clear()
    tenant = tenant_create(slug="bench-keys", name="Bench keys")
    user = User.objects.create_user("bench-keys@bench.example", None)
    membership = membership_create(tenant=tenant, user=user)
    role_assign_system(membership=membership, slug="member")
    created = api_keys.api_key_create(
        owner=membership,
        by=membership,
        name="bench",
        scopes=["user:read", "role:read"],
        allowed_ips=["10.0.0.0/8", "192.168.0.0/16"],
    )
    request = RequestFactory().get(
        "/api/v1/users", HTTP_X_API_KEY=created.raw, REMOTE_ADDR="10.1.2.3"
    )

    def measure(cold: bool) -> list[float]:
        samples = []
        for _ in range(300):
            authenticate_request(request)
        for _ in range(ROUNDS):
            if cold:
                api_keys._cache.clear()
            started = time.perf_counter()
            principal = authenticate_request(request)
            samples.append(time.perf_counter() - started)
            assert principal.api_key_id is not None
        return samples

    warm = measure(cold=False)
    cold = measure(cold=True)
    api_keys.usage_flush()
    us = 1e6
    warm50, warm99 = _percentiles(warm)
    cold50, cold99 = _percentiles(cold)
    return {
        "api_key_auth_warm_p50_us": round(warm50 * us, 1),
        "api_key_auth_warm_p99_us": round(warm99 * us, 1),
        "api_key_auth_cold_p50_us": round(cold50 * us, 1),
        "api_key_auth_cold_p99_us": round(cold99 * us, 1),
    }


def _redis_available(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001 - no Redis means no Redis row
        return False


def _run_child(redis_url: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="tessera-bench-keys-") as var:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TESSERA_DATABASE", "TESSERA_REDIS"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="tessera.settings",
            TESSERA_ENV="development",
            TESSERA_VAR_DIR=var,
            TESSERA_LOG_LEVEL="WARNING",
        )
        if redis_url:
            env["TESSERA_REDIS_URL"] = redis_url
            env["TESSERA_REDIS_PREFIX"] = "tessera-bench-keys"
        done = subprocess.run(
            [sys.executable, "-c", "import benchmarks.bench_api_keys as b; b._child_main()"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench_api_keys child failed:\n{done.stderr[-4000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def _child_main() -> None:
    print(json.dumps(_child()))


def run() -> dict:
    numbers = {f"sqlite_{k}": v for k, v in _run_child(None).items()}
    if _redis_available(REDIS_URL):
        numbers.update({f"redis_{k}": v for k, v in _run_child(REDIS_URL).items()})
    return numbers


if __name__ == "__main__":  # python -m benchmarks.bench_api_keys
    for name, number in run().items():
        print(f"  {name}: {number}")
