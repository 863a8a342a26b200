"""Brute-force protection for password logins, on the `limits` library (moving windows).

Per account: failures are counted on the normalised *submitted* email, whether or not an account
has it, so a locked account and an unknown email answer alike. There is one counter per email,
whatever tenant a login names (the attacker does not choose the counter): the rule is the
strictest lockout policy among the person's active memberships (fewest failures, longest lock),
the defaults (5 failures, 15 minutes) for emails without one. `max_failures` failures within
`lockout_minutes` lock the email for `lockout_minutes`. A success resets the account's counter.

Per client IP: `settings.RATE_LIMIT_IP_FAILURES` failures (default 20 in 5 minutes, across
accounts) block the IP for `settings.IP_BLOCK_SECONDS` (default 30 minutes). Successful logins are
not counted (offices share one address).

Storage: Redis (`settings.REDIS_URL`) when configured, so every process shares the counters;
memory otherwise — and, per process, while Redis does not answer
(`tessera.authn.limits_fallback`). Keys are `<prefix>:limits:` + `authn/<kind>/*/<subject>…`;
emails and IPs appear only as SHA-256 digests.

The `tenant` arguments are accepted for callers' convenience and ignored: the lockout is the
account's (docs/decisions/0009-one-tenant-per-session.md).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from tessera import metrics
from tessera.authn.limits_fallback import FallbackStorage
from tessera.redis_pool import shared_pool
from tessera.tenancy.models import Membership, MembershipStatus

NAMESPACE = "authn"
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

    @classmethod
    def for_email(cls, email: str) -> LockoutRule:
        """The strictest rule among the active memberships of the person with this email (the
        defaults when none, or no such person)."""
        return cls.strictest(
            m.tenant
            for m in Membership.objects.filter(
                user__email=email, status=MembershipStatus.ACTIVE, tenant__is_active=True
            )
            .select_related("tenant")
            .only("tenant__id", "tenant__settings")
        )

    @classmethod
    def strictest(cls, tenants: Iterable) -> LockoutRule:
        """The strictest rule among these tenants' (the tenants of a person's active memberships
        in active tenants: `for_email`'s rows, when the caller has read them); the defaults for
        none."""
        rules = [cls.for_tenant(tenant) for tenant in tenants]
        if not rules:
            return cls()
        return cls(min(r.max_failures for r in rules), max(r.lockout_seconds for r in rules))


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
                options: dict[str, Any] = {}
                if settings.REDIS_URL:  # the process's pool: timeouts, no retries (failures.md)
                    options = {"connection_pool": shared_pool(settings.REDIS_URL)}
                storage = storage_from_string(uri, key_prefix=f"{prefix}:limits", **options)
                if not isinstance(storage, Storage):  # an async+ URI: not ours to configure
                    raise TypeError(f"{uri!r} is not a synchronous limits storage")
                if settings.REDIS_URL:
                    storage = FallbackStorage(storage)
                _limiter = MovingWindowRateLimiter(storage)
                _storage_uri = uri
            limiter = _limiter
    return limiter


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _item(amount: int, seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, seconds, namespace=NAMESPACE)


def _ip_failures_item() -> RateLimitItem:
    item = parse(settings.RATE_LIMIT_IP_FAILURES)
    item.namespace = NAMESPACE
    return item


def _account_keys(
    email: str, rule: LockoutRule | None = None
) -> tuple[RateLimitItem, RateLimitItem, tuple[str, ...]]:
    """(failures item, block item, identifiers) of the account's one counter (`rule`: the
    email's `LockoutRule.for_email`, when the caller has read it already)."""
    rule = rule or LockoutRule.for_email(email)
    return (
        _item(rule.max_failures, rule.lockout_seconds),
        _item(1, rule.lockout_seconds),
        (GLOBAL, _digest(email)),
    )


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


def login_blocked(
    *, email: str, tenant=None, ip: str | None, rule: LockoutRule | None = None
) -> int:
    """Seconds until a login for this email from this IP may be tried; 0 = now. (`rule`: the
    email's `LockoutRule.for_email`, read once by a login that needs it twice.)"""
    limiter = _limiter_get()
    wait = 0
    ip_keys = _ip_keys(ip)
    if ip_keys is not None:
        wait = _blocked_for(limiter, ip_keys[1], ("ip-block", *ip_keys[2]))
    _failures, block, ids = _account_keys(email, rule)
    wait = max(wait, _blocked_for(limiter, block, ("account-block", *ids)))
    if wait:
        metrics.rate_limit_refused("login_failures")
    return wait


def login_failed(*, email: str, tenant=None, ip: str | None) -> FailureOutcome:
    """Count a failed attempt; lock the account / block the IP when a threshold is reached."""
    limiter = _limiter_get()
    locked = False
    failures, block, ids = _account_keys(email)
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
    for scope, happened in (("account", locked), ("ip", blocked)):
        if happened:
            metrics.lockout(scope)
    return FailureOutcome(account_locked=locked, ip_blocked=blocked)


def login_succeeded(*, email: str, tenant=None, rule: LockoutRule | None = None) -> None:
    """A completed login: forget the account's failures."""
    failures, _block, ids = _account_keys(email, rule)
    _limiter_get().clear(failures, "account-failures", *ids)


def account_unlock(*, email: str, tenant=None) -> None:
    """Lift a lock (after a password reset, or by an administrator)."""
    limiter = _limiter_get()
    failures, block, ids = _account_keys(email)
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


# --- failed authentication of API requests (bad tokens, API keys, refresh tokens, codes) --------


def _auth_failures_item() -> RateLimitItem:
    item = parse(settings.RATE_LIMIT_AUTH_FAILURES)
    item.namespace = NAMESPACE
    return item


def auth_failures_blocked(*, ip: str | None) -> int:
    """Seconds until this IP may present credentials to the API again (0 = now): once it has
    failed `settings.RATE_LIMIT_AUTH_FAILURES` authentications (moving window)."""
    if not ip:
        return 0
    limiter = _limiter_get()
    item, ids = _auth_failures_item(), ("auth-failures", GLOBAL, _digest(ip))
    if limiter.test(item, *ids):
        return 0
    reset = limiter.get_window_stats(item, *ids).reset_time
    metrics.rate_limit_refused("auth_failures")
    return max(1, math.ceil(reset - time.time()))


def auth_failure_record(*, ip: str | None) -> int:
    """Count one failed authentication of an API request from this IP; the seconds to wait when
    that is one too many (0 while under the limit)."""
    if not ip:
        return 0
    if _limiter_get().hit(_auth_failures_item(), "auth-failures", GLOBAL, _digest(ip)):
        return 0
    return auth_failures_blocked(ip=ip)
