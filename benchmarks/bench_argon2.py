"""Argon2id: the cost of each row of OWASP's parameter table here, and whether hashing in two
threads at once doubles the throughput (argon2-cffi releases the GIL while it hashes).

OWASP's Password Storage Cheat Sheet lists equivalent Argon2id configurations (p=1):
m=47104 t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5; the former default
(m=65536 t=3) is measured for comparison. The rows are measured in interleaved rounds, so that
the load of a shared machine falls on all of them alike; each number is a median over rounds.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

from argon2.low_level import Type, hash_secret

ROUNDS = int(os.environ.get("TESSERA_BENCH_ARGON2_ROUNDS", "5"))
PER_ROUND = int(os.environ.get("TESSERA_BENCH_ARGON2_PER_ROUND", "4"))
ROWS = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5), (65536, 3)]

NOTES = (
    f"{ROUNDS} interleaved rounds of {PER_ROUND} hashes per row (single thread), and of "
    f"{PER_ROUND} hashes in each of two threads at once; medians. ms = one hash, single thread; "
    "per_s_2threads = hashes per second with two threads; speedup = that over the single "
    "thread's rate (2.0 = the GIL is released and both cores hash). Load average in `load`."
)


def _hash(memory: int, time_cost: int) -> None:
    hash_secret(
        b"correct horse battery staple",
        os.urandom(16),
        time_cost=time_cost,
        memory_cost=memory,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )


def _single(memory: int, time_cost: int) -> float:
    started = time.perf_counter()
    for _ in range(PER_ROUND):
        _hash(memory, time_cost)
    return (time.perf_counter() - started) / PER_ROUND


def _two_threads(memory: int, time_cost: int) -> float:
    def work() -> None:
        for _ in range(PER_ROUND):
            _hash(memory, time_cost)

    threads = [threading.Thread(target=work) for _ in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 2 * PER_ROUND / (time.perf_counter() - started)


def run() -> dict:
    single: dict[tuple, list[float]] = {row: [] for row in ROWS}
    double: dict[tuple, list[float]] = {row: [] for row in ROWS}
    for row in ROWS:
        _hash(*row)
    for _ in range(ROUNDS):
        for row in ROWS:
            single[row].append(_single(*row))
            double[row].append(_two_threads(*row))
    numbers: dict = {"load": round(os.getloadavg()[0], 2)}
    for row in ROWS:
        name = f"m={row[0]} t={row[1]}"
        ms = statistics.median(single[row]) * 1000
        per_s = statistics.median(double[row])
        numbers[f"{name} ms"] = round(ms, 1)
        numbers[f"{name} per_s_2threads"] = round(per_s, 1)
        numbers[f"{name} speedup"] = round(per_s * ms / 1000, 2)
    return numbers
