"""Authentication: the cost of authenticating a Bearer request, and of a login vs its Argon2 hash.

1. Bearer authentication in process (`tessera.authn.request_auth.authenticate_request` on a
   RequestFactory request): signature and claims verification plus the live state check
   (`access_state`: one indexed SQLite query, or one Redis MGET when Redis is configured), in µs.
   "warm" is the steady state (the token's verified claims are remembered in process until it
   expires, the state check still runs every time); "cold" verifies the Ed25519 signature each
   time. Target: p50 ≤ 150 µs.
2. Login: p50 of a whole `POST /api/v1/auth/login` through the middleware stack, vs p50 of one
   Argon2id hash and one verification alone with the production parameters of settings.py.
   Target: login ≤ hash + 10 ms.

Each configuration runs in a child interpreter on a fresh SQLite file under a temporary
directory (and, for the Redis row, Redis database 14 of $TESSERA_BENCH_REDIS_URL, default
redis://127.0.0.1:6379/14, when it answers), so its settings cannot collide with other benchmarks.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

AUTH_ROUNDS = int(os.environ.get("TESSERA_BENCH_AUTH_ROUNDS", "3000"))
LOGIN_ROUNDS = int(os.environ.get("TESSERA_BENCH_LOGIN_ROUNDS", "15"))
REDIS_URL = os.environ.get("TESSERA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

NOTES = (
    f"In process, {AUTH_ROUNDS} Bearer authentications per row after a warm-up; "
    f"{LOGIN_ROUNDS} logins and as many lone Argon2id hashes/verifications with the production "
    "parameters (settings.ARGON2_*). SQLite file database; the Redis rows use a local Redis. "
    "warm = steady state (verified claims remembered until the token expires, live state checked "
    "on every request); cold = Ed25519 signature verified on every request. "
    "login_overhead_without_hash = a whole login minus its password verification, measured with "
    "a cheaply hashed user so that Argon2's variance under load does not drown it."
)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return statistics.median(ordered), p99


def _child() -> dict:
    import time

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import check_password, make_password
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client, RequestFactory

    from tessera.authn.lockout import lockout_reset
    from tessera.authn.request_auth import authenticate_request
    from tessera.authn.tokens import access_token_verify, tokens_clear_cache
    from tessera.identity.models import User
    from tessera.tenancy.services import membership_create, tenant_create

    call_command("migrate", verbosity=0, interactive=False)
    cache.clear()
    password = "correct horse battery staple, benchmark edition"
    tenant = tenant_create(
        slug="bench-auth", name="Bench auth", settings={"sessions": {"max_sessions": 100}}
    )
    user = User.objects.create_user("bench@bench.example", password)
    membership_create(tenant=tenant, user=user)
    client = Client()
    body = {"email": user.email, "password": password, "tenant": tenant.slug}

    def login():
        return client.post("/api/v1/auth/login", body, content_type="application/json")

    login()  # warm-up: signing key created, code paths loaded
    logins, hashes, verifies = [], [], []
    encoded = make_password(password)
    for _ in range(LOGIN_ROUNDS):
        lockout_reset()
        started = time.perf_counter()
        response = login()
        logins.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
        started = time.perf_counter()
        make_password(password)
        hashes.append(time.perf_counter() - started)
        started = time.perf_counter()
        check_password(password, encoded)
        verifies.append(time.perf_counter() - started)
    token = response.json()["access_token"]

    # The login's own work, without Argon2's cost: the same flow for a user whose hash is cheap
    # (the hasher reads its parameters from settings at call time; the production ones return).
    production = (settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_COST)
    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_COST = 1, 8
    cheap = User.objects.create_user("cheap@bench.example", password)
    membership_create(tenant=tenant, user=cheap)
    cheap_encoded = make_password(password)
    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_COST = production
    cheap_body = {**body, "email": cheap.email}
    overheads = []
    for _ in range(max(LOGIN_ROUNDS, 50)):
        lockout_reset()
        started = time.perf_counter()
        response = client.post("/api/v1/auth/login", cheap_body, content_type="application/json")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content
        started = time.perf_counter()
        check_password(password, cheap_encoded)
        overheads.append(elapsed - (time.perf_counter() - started))

    factory = RequestFactory()
    request = factory.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    def measure(cold: bool) -> list[float]:
        samples = []
        for _ in range(200):
            authenticate_request(request)
        for _ in range(AUTH_ROUNDS):
            if cold:
                tokens_clear_cache()
            started = time.perf_counter()
            principal = authenticate_request(request)
            samples.append(time.perf_counter() - started)
            assert principal is not None
        return samples

    warm = measure(cold=False)
    cold = measure(cold=True)
    verify_only = []
    for _ in range(AUTH_ROUNDS):
        tokens_clear_cache()
        started = time.perf_counter()
        access_token_verify(token)
        verify_only.append(time.perf_counter() - started)

    us = 1e6
    ms = 1e3
    warm50, warm99 = _percentiles(warm)
    cold50, cold99 = _percentiles(cold)
    login50, login99 = _percentiles(logins)
    hash50 = statistics.median(hashes)
    verify50 = statistics.median(verifies)
    return {
        "bearer_auth_warm_p50_us": round(warm50 * us, 1),
        "bearer_auth_warm_p99_us": round(warm99 * us, 1),
        "bearer_auth_cold_p50_us": round(cold50 * us, 1),
        "bearer_auth_cold_p99_us": round(cold99 * us, 1),
        "token_verify_only_p50_us": round(statistics.median(verify_only) * us, 1),
        "login_p50_ms": round(login50 * ms, 2),
        "login_p99_ms": round(login99 * ms, 2),
        "argon2_hash_p50_ms": round(hash50 * ms, 2),
        "argon2_verify_p50_ms": round(verify50 * ms, 2),
        "login_minus_verify_p50_ms": round((login50 - verify50) * ms, 2),
        "login_overhead_without_hash_p50_ms": round(statistics.median(overheads) * ms, 2),
        "argon2_params": (
            f"t={settings.ARGON2_TIME_COST} m={settings.ARGON2_MEMORY_COST}KiB "
            f"p={settings.ARGON2_PARALLELISM}"
        ),
    }


def _redis_available(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001 - no Redis means no Redis row
        return False


def _run_child(redis_url: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="tessera-bench-auth-") as var:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TESSERA_DATABASE", "TESSERA_REDIS", "TESSERA_ARGON2"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="tessera.settings",
            TESSERA_ENV="development",
            TESSERA_VAR_DIR=var,
            TESSERA_LOG_LEVEL="WARNING",
        )
        if redis_url:
            env["TESSERA_REDIS_URL"] = redis_url
            env["TESSERA_REDIS_PREFIX"] = "tessera-bench-auth"
        done = subprocess.run(
            [sys.executable, "-c", "import benchmarks.bench_auth as b; b._child_main()"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench_auth child failed:\n{done.stderr[-4000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def _child_main() -> None:
    print(json.dumps(_child()))


def run() -> dict:
    numbers: dict = {}
    embedded = _run_child(None)
    for key, value in embedded.items():
        numbers[key if key.startswith(("login", "argon2")) else f"sqlite_{key}"] = value
    if _redis_available(REDIS_URL):
        with_redis = _run_child(REDIS_URL)
        for key, value in with_redis.items():
            if key.startswith(("bearer", "token")):
                numbers[f"redis_{key}"] = value
    return numbers


if __name__ == "__main__":  # python -m benchmarks.bench_auth (make bench prints through __main__)
    for name, number in run().items():
        print(f"  {name}: {number}")
