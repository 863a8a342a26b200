"""Brute-force protection for password logins, on the `limits` library (moving windows).

Per account: failures are counted on the normalised *submitted* email, whether or not such an
account exists, so a locked account and an unknown email answer alike. `max_failures` failures
within `lockout_minutes` lock the email for `lockout_minutes` (the tenant named by the login sets
both; defaults 5 and 15 without one). The counters live in the tenant's namespace; a global
backstop namespace (`BACKSTOP_*`) also counts every failure so that trying the same email under
many tenants buys no more than `BACKSTOP_MAX_FAILURES` guesses per window. A success resets the
account's counters.

Per client IP: `settings.RATE_LIMIT_IP_FAILURES` failures (default 20 in 5 minutes, across
accounts) block the IP for `settings.IP_BLOCK_SECONDS` (default 30 minutes). Successful logins are
not counted (offices share one address).

Storage: Redis (`settings.REDIS_URL`) when configured, so every process shares the counters;
memory otherwise. Keys are `<prefix>:limits:` + `authn/<kind>/<tenant or *>/<subject>…`; emails
and IPs appear only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "authn"
BACKSTOP_MAX_FAILURES = 100
BACKSTOP_WINDOW_SECONDS = 15 * 60
GLOBAL = "*"

_lock = threading.Lock()
_limiter: MovingWindowRateLimiter | None = None
_storage_uri: str | None = None


@dataclass(frozen=True, slots=True)
class LockoutRule:
    max_failures: int = 5
    lockout_seconds: int = 15 * 60

    @classmethod
    def for_tenant(cls, tenant) -> LockoutRule:
        if tenant is None:
            return cls()
        policy = tenant.policy.lockout
        return cls(policy.max_failures, policy.lockout_minutes * 60)


@dataclass(frozen=True, slots=True)
class FailureOutcome:
    account_locked: bool
    ip_blocked: bool


def storage_uri() -> str:
    return settings.REDIS_URL or "memory://"


def _limiter_get() -> MovingWindowRateLimiter:
    global _limiter, _storage_uri
    uri = storage_uri()
    limiter = _limiter
    if limiter is None or _storage_uri != uri:
        with _lock:
            if _limiter is None or _storage_uri != uri:
                prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX") or "tessera"
                storage: Storage = storage_from_string(uri, key_prefix=f"{prefix}:limits")
                _limiter = MovingWindowRateLimiter(storage)
                _storage_uri = uri
            limiter = _limiter
    return limiter


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _tenant_ns(tenant) -> str:
    return str(tenant.pk) if tenant is not None else "-"


def _item(amount: int, seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, seconds, namespace=NAMESPACE)


def _ip_failures_item() -> RateLimitItem:
    item = parse(settings.RATE_LIMIT_IP_FAILURES)
    item.namespace = NAMESPACE
    return item


def _account_keys(email: str, tenant) -> list[tuple[RateLimitItem, RateLimitItem, tuple[str, ...]]]:
    """(failures item, block item, identifiers) for the tenant namespace and the backstop."""
    subject = _digest(email)
    rule = LockoutRule.for_tenant(tenant)
    return [
        (
            _item(rule.max_failures, rule.lockout_seconds),
            _item(1, rule.lockout_seconds),
            (_tenant_ns(tenant), subject),
        ),
        (
            _item(BACKSTOP_MAX_FAILURES, BACKSTOP_WINDOW_SECONDS),
            _item(1, BACKSTOP_WINDOW_SECONDS),
            (GLOBAL, subject),
        ),
    ]


def _ip_keys(ip: str | None):
    if not ip:
        return None
    return (
        _ip_failures_item(),
        _item(1, settings.IP_BLOCK_SECONDS),
        (GLOBAL, _digest(ip)),
    )


def _blocked_for(limiter: MovingWindowRateLimiter, block: RateLimitItem, ids) -> int:
    if limiter.test(block, *ids):
        return 0
    reset = limiter.get_window_stats(block, *ids).reset_time
    return max(1, math.ceil(reset - time.time()))


def login_blocked(*, email: str, tenant, ip: str | None) -> int:
    """Seconds until a login for this email (in this tenant) from this IP may be tried; 0 = now."""
    limiter = _limiter_get()
    wait = 0
    ip_keys = _ip_keys(ip)
    if ip_keys is not None:
        wait = _blocked_for(limiter, ip_keys[1], ("ip-block", *ip_keys[2]))
    for _failures, block, ids in _account_keys(email, tenant):
        wait = max(wait, _blocked_for(limiter, block, ("account-block", *ids)))
    return wait


def login_failed(*, email: str, tenant, ip: str | None) -> FailureOutcome:
    """Count a failed attempt; lock the account / block the IP when a threshold is reached."""
    limiter = _limiter_get()
    locked = False
    for failures, block, ids in _account_keys(email, tenant):
        limiter.hit(failures, "account-failures", *ids)
        if not limiter.test(failures, "account-failures", *ids):
            limiter.hit(block, "account-block", *ids)
            limiter.clear(failures, "account-failures", *ids)
            locked = True
    blocked = False
    ip_keys = _ip_keys(ip)
    if ip_keys is not None:
        failures, block, ids = ip_keys
        limiter.hit(failures, "ip-failures", *ids)
        if not limiter.test(failures, "ip-failures", *ids):
            limiter.hit(block, "ip-block", *ids)
            limiter.clear(failures, "ip-failures", *ids)
            blocked = True
    return FailureOutcome(account_locked=locked, ip_blocked=blocked)


def login_succeeded(*, email: str, tenant) -> None:
    """A correct password: forget the account's failures (in its namespace and the backstop)."""
    limiter = _limiter_get()
    for failures, _block, ids in _account_keys(email, tenant):
        limiter.clear(failures, "account-failures", *ids)


def account_unlock(*, email: str, tenant=None) -> None:
    """Lift a lock (after a password reset, or by an administrator)."""
    limiter = _limiter_get()
    for failures, block, ids in _account_keys(email, tenant):
        limiter.clear(failures, "account-failures", *ids)
        limiter.clear(block, "account-block", *ids)


def reset_request_allowed(*, email: str, per_hour: int) -> bool:
    """Count a password-reset request for this address; False once `per_hour` is exceeded."""
    return _limiter_get().hit(_item(per_hour, 3600), "reset-requests", GLOBAL, _digest(email))


def lockout_reset() -> None:
    """Forget every counter under Tessera's prefix in the current storage (tests, benchmarks)."""
    limiter = _limiter
    if limiter is not None and _storage_uri == storage_uri():
        limiter.storage.reset()


def limits_storage() -> Storage:
    """The `limits` storage shared by Tessera's limiters (Redis when configured, else memory)."""
    return _limiter_get().storage
