"""Prometheus series of the service, and the one-line calls that count into them.

Every layer counts through the functions here (`login_attempt("locked")`,
`@decisions_timed("check")`), so no domain module imports the API and the names and labels are
kept in one place. Label values
are bounded sets (outcomes, route templates, audit event types); the tenant appears only in
`tessera_tenant_decisions_total`, which stays empty unless `TESSERA_METRICS_TENANT_LABELS` is on.

Multiprocess mode: `tessera serve` points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory before
its workers start; each worker then writes its values to memory-mapped files there and the scrape
(`tessera.api.metrics_scrape`) merges them. A process that imported this module before the
variable was set (tests; `tessera serve` with one worker, which serves from the process that set
it) keeps its values in memory: `MULTIPROCESS` says which, and the scrape reads accordingly.
"""

from __future__ import annotations

import atexit
import functools
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client import multiprocess as _multiprocess

disable_created_metrics()  # no `_created` series: the same exposition with one worker or several
F = TypeVar("F", bound=Callable[..., Any])
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))
"""Whether this process's values live in the multiprocess directory (fixed at import)."""

LOGIN_OUTCOMES = (
    "success",
    "bad_credentials",
    "locked",
    "mfa_required",
    "mfa_failed",
    "sso_success",
    "sso_failed",
)
DECISION_OUTCOMES = ("allow", "deny")
DECISION_KINDS = ("check", "batch")
LOCKOUT_SCOPES = ("account", "ip")
RATE_LIMITS = ("api", "bulk", "login_failures", "auth_failures")
DECISION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)

HTTP_REQUEST_DURATION = Histogram(
    "tessera_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status code.",
    ["route", "method", "status"],
)
LOGIN_ATTEMPTS = Counter(
    "tessera_login_attempts",
    "Sign-in attempts by outcome (password, MFA and single sign-on steps).",
    ["outcome"],
)
DECISIONS = Counter(
    "tessera_decisions", "Authorization decisions answered, by outcome.", ["outcome"]
)
TENANT_DECISIONS = Counter(
    "tessera_tenant_decisions",
    "Authorization decisions by tenant and outcome (only with TESSERA_METRICS_TENANT_LABELS).",
    ["tenant", "outcome"],
)
DECISION_DURATION = Histogram(
    "tessera_decision_duration_seconds",
    "Time to answer one authorization call (a check, or a whole batch).",
    ["kind"],
    buckets=DECISION_BUCKETS,
)
LOCKOUTS = Counter(
    "tessera_lockouts", "Accounts locked and addresses blocked after failed sign-ins.", ["scope"]
)
POLICY_CACHE_HITS = Counter(
    "tessera_policy_cache_hits",
    "Compiled policies found in a cache, by tier (local: this process; shared: Redis).",
    ["tier"],
)
POLICY_CACHE_MISSES = Counter(
    "tessera_policy_cache_misses", "Compiled policies built because no cache held them."
)
AUDIT_EVENTS = Counter(
    "tessera_audit_events", "Audit events written (committed), by event type.", ["type"]
)
WEBSOCKET_CONNECTIONS = Gauge(
    "tessera_websocket_connections",
    "Open authenticated WebSocket connections.",
    multiprocess_mode="livesum",
)
WEBSOCKET_CONNECTS = Counter(
    "tessera_websocket_connects",
    "WebSocket connection attempts by outcome (accepted, or refused for lack of credentials).",
    ["outcome"],
)
RATE_LIMIT_REFUSALS = Counter(
    "tessera_rate_limit_refusals",
    "Requests refused with 429 by a budget: api, bulk, login_failures, auth_failures.",
    ["limit"],
)

for _outcome in LOGIN_OUTCOMES:  # every outcome is listed from the first scrape, at 0
    LOGIN_ATTEMPTS.labels(_outcome)
for _outcome in DECISION_OUTCOMES:
    DECISIONS.labels(_outcome)
for _kind in DECISION_KINDS:
    DECISION_DURATION.labels(_kind)
for _scope in LOCKOUT_SCOPES:
    LOCKOUTS.labels(_scope)
for _tier in ("local", "shared"):
    POLICY_CACHE_HITS.labels(_tier)
for _limit in RATE_LIMITS:
    RATE_LIMIT_REFUSALS.labels(_limit)
for _outcome in ("accepted", "refused"):
    WEBSOCKET_CONNECTS.labels(_outcome)


def login_attempt(outcome: str) -> None:
    """Count a sign-in attempt; `outcome` is one of `LOGIN_OUTCOMES`."""
    LOGIN_ATTEMPTS.labels(outcome).inc()


def decisions_observe(kind: str, seconds: float, allowed: list[bool], tenant_id=None) -> None:
    """Count the decisions of one check or batch call, and its time."""
    DECISION_DURATION.labels(kind).observe(seconds)
    granted = sum(1 for a in allowed if a)
    per_tenant = tenant_id is not None and tenant_labels_enabled()
    for outcome, count in (("allow", granted), ("deny", len(allowed) - granted)):
        if count:
            DECISIONS.labels(outcome).inc(count)
            if per_tenant:
                TENANT_DECISIONS.labels(str(tenant_id), outcome).inc(count)


def decisions_timed(kind: str) -> Callable[[F], F]:
    """Decorate a decision function (`membership=` → a decision, or a list of batch items with
    `.membership` → a list of decisions): its decisions and time are counted."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            answer = func(*args, **kwargs)
            answers = answer if isinstance(answer, list) else [answer]
            decisions_observe(
                kind,
                time.perf_counter() - started,
                [bool(a.allowed) for a in answers],
                _tenant_of(args, kwargs),
            )
            return answer

        return cast(F, timed)

    return decorate


def _tenant_of(args: tuple, kwargs: dict[str, Any]) -> Any:
    membership = kwargs.get("membership")
    if membership is None and args and isinstance(args[0], list | tuple) and args[0]:
        membership = getattr(args[0][0], "membership", None)
    return getattr(membership, "tenant_id", None)


def tenant_labels_enabled() -> bool:
    """`TESSERA_METRICS_TENANT_LABELS`: one series per tenant where a metric offers it."""
    return os.environ.get("TESSERA_METRICS_TENANT_LABELS", "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def lockout(scope: str) -> None:
    LOCKOUTS.labels(scope).inc()


def policy_cache_hit(tier: str) -> None:
    POLICY_CACHE_HITS.labels(tier).inc()


def policy_cache_miss() -> None:
    POLICY_CACHE_MISSES.inc()


def audit_event_written(event_type: str) -> None:
    AUDIT_EVENTS.labels(event_type).inc()


def websocket_opened() -> None:
    WEBSOCKET_CONNECTS.labels("accepted").inc()
    WEBSOCKET_CONNECTIONS.inc()


def websocket_refused() -> None:
    WEBSOCKET_CONNECTS.labels("refused").inc()


def websocket_closed() -> None:
    WEBSOCKET_CONNECTIONS.dec()


def rate_limit_refused(limit: str) -> None:
    """Count a 429 answered by a budget; `limit` is one of `RATE_LIMITS`."""
    RATE_LIMIT_REFUSALS.labels(limit).inc()


def http_request_observe(*, route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUEST_DURATION.labels(route, method, str(status)).observe(seconds)


def _process_exit() -> None:
    """A worker that ends takes its live gauges (open WebSockets) out of the merged view."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory and os.path.isdir(directory):
        _multiprocess.mark_process_dead(os.getpid(), directory)


if MULTIPROCESS:
    atexit.register(_process_exit)
