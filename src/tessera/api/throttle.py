"""Request budgets for every API call (the `limits` library, fixed windows).

Each principal (user, or API key) gets `TESSERA_RATE_LIMIT_API` (600/minute) per tenant, anonymous
callers the same per IP; bulk endpoints have their own `TESSERA_RATE_LIMIT_BULK` (10/minute) on top.
The decision endpoints (`POST /api/v1/authz/check`, `/check/batch`) spend their own class instead,
`TESSERA_RATE_LIMIT_DECISIONS` (60000/minute): applications ask on every request they serve, and
600/minute would hold one to 10 decisions a second. A batch counts as one request, whatever its
number of checks (at most 1,000): it costs the server far less than as many single checks.
A tenant may set its own numbers (`settings.rate_limits`). Over budget: 429 with `Retry-After`.
Failed logins have their own, stricter counters (tessera.authn.lockout).
"""

from __future__ import annotations

import functools
import math
import threading
import time

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.strategies import FixedWindowRateLimiter

from tessera import metrics
from tessera.authn.lockout import limits_storage
from tessera.errors import RateLimited
from tessera.problems import problem_response
from tessera.request_facts import client_ip

_lock = threading.Lock()
_limiters: dict[int, FixedWindowRateLimiter] = {}


def _limiter() -> FixedWindowRateLimiter:
    storage = limits_storage()
    limiter = _limiters.get(id(storage))
    if limiter is None:
        with _lock:
            limiter = _limiters.setdefault(id(storage), FixedWindowRateLimiter(storage))
    return limiter


_tenant_limits: dict[tuple, dict] = {}
_TENANT_LIMITS_MAX = 10_000


def _tenant_rate_limits(request, tenant) -> dict:
    """The tenant's `rate_limits` settings, cached per (tenant, policy version): settings changes
    bump the version, which the request already read with its session check."""
    principal = getattr(request, "principal", None)
    version = getattr(principal, "tenant_version", 0) if principal is not None else 0
    if not version:
        return (tenant.settings or {}).get("rate_limits") or {}
    key = (str(tenant.pk), version)
    found = _tenant_limits.get(key)
    if found is None:
        if len(_tenant_limits) >= _TENANT_LIMITS_MAX:
            _tenant_limits.clear()
        found = _tenant_limits[key] = (tenant.settings or {}).get("rate_limits") or {}
    return found


DECISION_PATHS = frozenset({"/api/v1/authz/check", "/api/v1/authz/check/batch"})
"""The paths of the decision class (`RATE_LIMIT_DECISIONS`); every other API path is `api`."""

_DEFAULTS = {
    "api": lambda: settings.RATE_LIMIT_API,
    "bulk": lambda: settings.RATE_LIMIT_BULK,
    "decisions": lambda: settings.RATE_LIMIT_DECISIONS,
}


def budget_classes(path: str) -> tuple[str, ...]:
    """The budgets a request to `path` spends: `decisions`, or `api` (and `bulk` for bulk)."""
    if path in DECISION_PATHS:
        return ("decisions",)
    if path.endswith("/bulk"):
        return ("api", "bulk")
    return ("api",)


def _budget(request, kind: str) -> RateLimitItem:
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        per_minute = _tenant_rate_limits(request, tenant).get(f"{kind}_per_minute")
        if per_minute:
            return RateLimitItemPerMinute(per_minute)
    return _parsed(_DEFAULTS[kind]())


@functools.lru_cache(maxsize=64)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def _caller(request) -> str:
    principal = getattr(request, "principal", None)
    if principal is None:
        return f"ip:{client_ip(request) or '-'}"
    if principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    return f"user:{principal.user_id}"


def throttle_check(request) -> None:
    """Spend one request of the caller's budget(s); RateLimited when one is exhausted."""
    tenant = getattr(request, "tenant", None)
    ids = (str(tenant.pk) if tenant is not None else "-", _caller(request))
    limiter = _limiter()
    for kind in budget_classes(request.path):
        item = _budget(request, kind)
        if not limiter.hit(item, "throttle", kind, *ids):
            reset = limiter.get_window_stats(item, "throttle", kind, *ids).reset_time
            metrics.rate_limit_refused(kind)
            raise RateLimited(
                f"Too many requests: the limit is {item}",
                retry_after=math.ceil(max(1.0, reset - time.time())),
            )


class ThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/v1/"):
            try:
                throttle_check(request)
            except RateLimited as exc:
                return problem_response(request, exc)
        return self.get_response(request)
