"""`POST /api/v1/auth/password/reset` over loopback: does the answer's time tell a known email from
an unknown one? Against `tessera serve` (one uvicorn worker) on a temporary SQLite database;
sequential requests, a known and an unknown address in random order each round (each address
used once, so the per-address cap never short-cuts the known ones), after a warm-up.
"""

from __future__ import annotations

import logging
import random
import statistics
import time

import httpx

from benchmarks.bench_engine import django_setup
from benchmarks.http.server import Server

ROUNDS = 300
WARMUP = 20
NOTES = (
    f"{ROUNDS} requests per kind after {WARMUP} warm-up pairs, sequential, one known and one "
    "unknown address per round in random order (each address used once); one uvicorn worker "
    "(`tessera serve`), SQLite, locmem mail backend, client on loopback in the benchmark's "
    "process. The lookup, token, audit event and mail run after the answer is sent "
    "(tessera.authn.deferred). Before this change: 7–16 ms for a known email, 2–4 ms for an "
    "unknown one (issue 12)."
)


def seed(count: int) -> list[str]:
    from tessera.identity.models import User

    tag = random.randrange(10**9)
    emails = [f"reset-{tag}-{i}@example.test" for i in range(count)]
    User.objects.bulk_create(User(email=e, password="!unusable") for e in emails)
    return emails


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def run() -> dict[str, float]:
    var_dir = django_setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    known = seed(ROUNDS + WARMUP)
    tag = random.randrange(10**9)
    unknown = [f"nobody-{tag}-{i}@example.test" for i in range(ROUNDS + WARMUP)]
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    env = {
        "TESSERA_VAR_DIR": var_dir,
        "TESSERA_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    with Server(env) as server, httpx.Client(base_url=server.base, timeout=30) as client:
        order = random.Random(12)
        for i in range(ROUNDS + WARMUP):
            pair = [("known", known[i]), ("unknown", unknown[i])]
            order.shuffle(pair)  # neither kind always follows the other's deferred work
            for kind, email in pair:
                started = time.perf_counter()
                r = client.post("/api/v1/auth/password/reset", json={"email": email})
                elapsed = (time.perf_counter() - started) * 1000
                assert r.status_code == 202, r.text
                if i >= WARMUP:
                    times[kind].append(elapsed)
    numbers: dict[str, float] = {"requests_per_kind": float(ROUNDS)}
    for kind, values in times.items():
        numbers[f"{kind}_p50_ms"] = statistics.median(values)
        numbers[f"{kind}_p95_ms"] = _quantile(values, 0.95)
        numbers[f"{kind}_mean_ms"] = statistics.fmean(values)
    numbers["p50_difference_ms"] = numbers["known_p50_ms"] - numbers["unknown_p50_ms"]
    return numbers


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value:,.2f}")
