"""Request budgets for every API call (the `limits` library, fixed windows).

Each principal (user, or API key) gets `TESSERA_RATE_LIMIT_API` (600/minute) per tenant, anonymous
callers the same per IP; bulk endpoints have their own `TESSERA_RATE_LIMIT_BULK` (10/minute) on top.
The decision endpoints (`POST /api/v1/authz/check`, `/check/batch`) spend their own class instead,
`TESSERA_RATE_LIMIT_DECISIONS` (60000/minute): applications ask on every request they serve, and
600/minute would hold one to 10 decisions a second. A batch counts as one request, whatever its
number of checks (at most 1,000): it costs the server far less than as many single checks.
A tenant may set its own numbers (`settings.rate_limits`). Over budget: 429 with `Retry-After`.
Failed logins have their own, stricter counters (tessera.authn.lockout).

With Redis, an authenticated request's counter is spent in the same round trip as its credential's
state (`ride_along`, decision 0030): one Redis round trip per request. Such a request counts even
when authentication or tenant resolution then refuses it (a session that ended, an inactive
tenant), which it did not before.
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
from tessera.access.redis_breaker import redis_available
from tessera.access.versions import RideAlong
from tessera.authn.limits_fallback import FallbackStorage
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
_latest_limits: dict[str, dict] = {}  # tenant id → its `rate_limits` as last read here
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
            _latest_limits.clear()
        found = _tenant_limits[key] = (tenant.settings or {}).get("rate_limits") or {}
        _latest_limits[key[0]] = found
    return found


API_PATH_PREFIX = "/api/v1/"
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


def _budget_of(limits: dict, kind: str) -> RateLimitItem:
    per_minute = limits.get(f"{kind}_per_minute")
    if per_minute:
        return RateLimitItemPerMinute(per_minute)
    return _parsed(_DEFAULTS[kind]())


def _budget(request, kind: str) -> RateLimitItem:
    tenant = getattr(request, "tenant", None)
    limits = _tenant_rate_limits(request, tenant) if tenant is not None else {}
    return _budget_of(limits, kind)


@functools.lru_cache(maxsize=64)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def _principal_caller(*, user_id, api_key_id) -> str:
    return f"key:{api_key_id}" if api_key_id is not None else f"user:{user_id}"


def _caller(request) -> str:
    principal = getattr(request, "principal", None)
    if principal is None:
        return f"ip:{client_ip(request) or '-'}"
    return _principal_caller(user_id=principal.user_id, api_key_id=principal.api_key_id)


def _redis_key(limiter: FixedWindowRateLimiter, item: RateLimitItem, *ids: str) -> str | None:
    """The Redis key of this budget's counter; None when the counter is not in Redis now."""
    storage = limiter.storage
    if not isinstance(storage, FallbackStorage) or not redis_available():
        return None
    return storage.primary.prefixed_key(item.key_for(*ids))  # type: ignore[attr-defined]


def ride_along(path: str, *, tenant_id, user_id, api_key_id) -> RideAlong | None:
    """The budget counter a request by this principal will spend, to be spent in the same Redis
    round trip as its credential's state (`tessera.authn.session_state.access_state`); None when
    that cannot be: no Redis, not an API path, or a path that spends two budgets.

    The budget is the tenant's as last read in this process (the defaults before that). When the
    request's real budget turns out to be another (the tenant's limits changed), `throttle_check`
    spends that one as usual: the counter spent here is then one that budget never reads.
    """
    if not path.startswith(API_PATH_PREFIX):
        return None
    kinds = budget_classes(path)
    if len(kinds) != 1:
        return None
    tenant = str(tenant_id) if tenant_id is not None else "-"
    item = _budget_of(_latest_limits.get(tenant, {}), kinds[0])
    caller = _principal_caller(user_id=user_id, api_key_id=api_key_id)
    key = _redis_key(_limiter(), item, "throttle", kinds[0], tenant, caller)
    return RideAlong(key, item.get_expiry()) if key is not None else None


def throttle_check(request) -> None:
    """Spend one request of the caller's budget(s); RateLimited when one is exhausted.

    A budget whose counter was already spent with the request's credential check
    (`ride_along`; `request.budget_spent`) is read from that spend, not spent again."""
    tenant = getattr(request, "tenant", None)
    ids = (str(tenant.pk) if tenant is not None else "-", _caller(request))
    limiter = _limiter()
    spent: tuple[RideAlong, int] | None = getattr(request, "budget_spent", None)
    for kind in budget_classes(request.path):
        item = _budget(request, kind)
        if spent is not None and spent[0].key == _redis_key(limiter, item, "throttle", kind, *ids):
            allowed = spent[1] <= item.amount
        else:
            allowed = limiter.hit(item, "throttle", kind, *ids)
        if not allowed:
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
        if request.path.startswith(API_PATH_PREFIX):
            try:
                throttle_check(request)
            except RateLimited as exc:
                return problem_response(request, exc)
        return self.get_response(request)
