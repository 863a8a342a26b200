"""The workloads of the HTTP suite (issue 17) and their targets."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass

# metric → (label in the table, unit)
METRICS = {
    "req_per_s": ("req/s", ""),
    "p50_ms": ("p50", " ms"),
    "p99_ms": ("p99", " ms"),
    "cpu_ms": ("server CPU", " ms/req"),
}
OPERATORS = {"≥": operator.ge, "≤": operator.le}

CHECK_ACTIONS = ("user:read", "role:read", "user:update", "grant:read", "doc:read", "user:delete")


@dataclass(frozen=True)
class Target:
    metric: str
    op: str  # "≥" or "≤"
    value: float

    def met(self, numbers: dict[str, float]) -> bool:
        return OPERATORS[self.op](numbers[self.metric], self.value)

    def __str__(self) -> str:
        label, unit = METRICS[self.metric]
        return f"{label} {self.op} {self.value:,g}{unit}"


@dataclass(frozen=True)
class Probe:
    """What a correct answer looks like (checked once with httpx before wrk runs)."""

    status: int
    holds: Callable[[str], bool]
    says: str


@dataclass(frozen=True)
class Row:
    key: str
    workload: str  # as the table shows it
    method: str
    path: str
    auth: str  # "bearer" (the manager), "admin" (admin session cookie), "none", "refresh"
    connections: int
    targets: tuple[Target, ...]
    probe: Probe | None
    body: Callable[[dict], bytes] | None = None  # from the prepared facts
    warmup: bool = True
    min_seconds: float = 0  # at least this long, whatever --duration says (slow requests)


def _json(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def check_body(facts: dict) -> bytes:
    return _json({"action": "user:read", "resource": {"type": "user"}})


def batch_body(facts: dict) -> bytes:
    subjects = facts["subject_ids"]
    checks = [
        {"action": CHECK_ACTIONS[i % len(CHECK_ACTIONS)], "subject_id": subjects[i % len(subjects)]}
        for i in range(1000)
    ]
    return _json({"checks": checks})


def login_body(facts: dict) -> bytes:
    return _json(
        {"email": facts["login_email"], "password": facts["password"], "tenant": facts["tenant"]}
    )


def _json_holds(test: Callable[[dict], bool]) -> Callable[[str], bool]:
    def holds(text: str) -> bool:
        try:
            return bool(test(json.loads(text)))
        except (ValueError, KeyError, TypeError):
            return False

    return holds


def _smiths(page: dict) -> bool:
    items = page["items"]
    return bool(items) and all("smith" in json.dumps(item).lower() for item in items)


BATCH_PROBE = Probe(200, _json_holds(lambda d: len(d["results"]) == 1000), "1,000 results")
BATCH_TARGET = (Target("p50_ms", "≤", 10),)

ROWS = (
    Row(
        "check",
        "POST /api/v1/authz/check",
        "POST",
        "/api/v1/authz/check",
        "bearer",
        16,
        (Target("req_per_s", "≥", 3000), Target("p99_ms", "≤", 10), Target("cpu_ms", "≤", 0.3)),
        Probe(200, _json_holds(lambda d: d == {"allowed": True}), '{"allowed": true}'),
        check_body,
    ),
    Row(
        "batch1",
        "POST /api/v1/authz/check/batch (1,000 checks, 20 members), 1 connection",
        "POST",
        "/api/v1/authz/check/batch",
        "bearer",
        1,
        BATCH_TARGET,
        BATCH_PROBE,
        batch_body,
    ),
    Row(
        "batch16",
        "POST /api/v1/authz/check/batch (1,000 checks, 20 members), 16 connections",
        "POST",
        "/api/v1/authz/check/batch",
        "bearer",
        16,
        BATCH_TARGET,
        BATCH_PROBE,
        batch_body,
    ),
    Row(
        "me",
        "GET /api/v1/auth/me",
        "GET",
        "/api/v1/auth/me",
        "bearer",
        16,
        (Target("req_per_s", "≥", 2000), Target("cpu_ms", "≤", 0.5)),
        Probe(200, _json_holds(lambda d: "user:read" in d["permissions"]), "the permissions"),
    ),
    Row(
        "refresh",
        "POST /api/v1/auth/refresh (rotating, one chain per connection)",
        "POST",
        "/api/v1/auth/refresh",
        "refresh",
        16,
        (Target("req_per_s", "≥", 1000),),
        None,  # each answer is checked by refresh.lua (a new refresh token)
        warmup=False,  # a warm-up would spend the chains
    ),
    Row(
        "users",
        "GET /api/v1/users?q=smith&limit=50",
        "GET",
        "/api/v1/users?q=smith&limit=50",
        "bearer",
        16,
        (Target("req_per_s", "≥", 500), Target("p50_ms", "≤", 20)),
        Probe(200, _json_holds(_smiths), "a page of Smiths"),
    ),
    Row(
        "admin",
        "admin /admin/identity/user/?q=smith",
        "GET",
        "/admin/identity/user/?q=smith",
        "admin",
        16,
        (Target("cpu_ms", "≤", 15),),
        Probe(200, lambda text: "Smith" in text and 'id="result_list"' in text, "a result list"),
    ),
    Row(
        "login",
        "POST /api/v1/auth/login",
        "POST",
        "/api/v1/auth/login",
        "none",
        16,
        (Target("req_per_s", "≥", 40),),
        Probe(200, _json_holds(lambda d: bool(d["access_token"])), "tokens"),
        login_body,
        # 16 password hashes in flight at once finish together: a short run could end before
        # the first round is answered
        min_seconds=20,
    ),
)
BY_KEY = {row.key: row for row in ROWS}
ALIASES = {"batch": ("batch1", "batch16")}


def select(names: str | None) -> list[Row]:
    """The rows named (comma-separated keys; `batch` = both batch rows), in the suite's order
    (login last: its sessions churn); all when `names` is empty."""
    if not names:
        return list(ROWS)
    wanted: set[str] = set()
    for name in (n.strip() for n in names.split(",") if n.strip()):
        keys = ALIASES.get(name, (name,))
        unknown = [k for k in keys if k not in BY_KEY]
        if unknown:
            raise ValueError(f"unknown row {name!r}; rows: {', '.join([*BY_KEY, *ALIASES])}")
        wanted.update(keys)
    return [row for row in ROWS if row.key in wanted]
