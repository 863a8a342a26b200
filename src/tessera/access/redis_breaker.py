"""Whether this process may use Redis now: a circuit breaker (docs/operations/failures.md).

Redis is an accelerator, never the source of truth: every read it serves has a database path.
After any failed Redis call (`redis_failed`) the breaker opens for `REDIS_RETRY_SECONDS`
(default 1): readers skip Redis and use the database; rate limits count in this process. Then the
next caller probes Redis. Before the process trusts Redis again, the probe deletes every cached
access state (versions and sessions): a change committed while Redis did not answer could not
replace its cached copy, and that copy must not answer after the outage. Only then does the
breaker close. A failed probe opens it for another interval.

Writers do not ask the breaker: a change always tries to replace its cached state (the call fails
fast while Redis is down), so a Redis that came back for another process never keeps a copy older
than a change committed after that process's flush.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("tessera.redis")

# what a Redis call raises when the server is away or too slow (OSError: a socket below redis-py)
REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
# the cached access state (tessera.access.versions, tessera.authn.session_state)
STATE_KEY_PATTERNS = ("pv:*", "sess:*")
_SCAN_BATCH = 1000

_lock = threading.Lock()
_open_until = 0.0  # monotonic time before which Redis is not asked; 0 = closed


def redis_configured() -> bool:
    return bool(settings.REDIS_URL)


def redis_available() -> bool:
    """Redis is configured and this process may ask it (probing it when the interval is over)."""
    if not settings.REDIS_URL:
        return False
    if not _open_until:
        return True
    if time.monotonic() < _open_until:
        return False
    return _probe()


def shared_cache_usable() -> bool:
    """The shared cache may be asked: in-process (no Redis configured), or Redis answering."""
    return not settings.REDIS_URL or redis_available()


def redis_failed(exc: BaseException | None = None) -> None:
    """A Redis call failed: open the breaker; the cached state is flushed before the next use."""
    global _open_until
    with _lock:
        if not _open_until:
            logger.warning("Redis failed (%s): using the database and in-process limits", exc)
        _open_until = time.monotonic() + retry_seconds()


def retry_seconds() -> float:
    return float(getattr(settings, "REDIS_RETRY_SECONDS", 1.0))


def _probe() -> bool:
    global _open_until
    if not _lock.acquire(blocking=False):
        return False  # another thread probes: this one keeps using the database
    try:
        if not _open_until:
            return True
        if time.monotonic() < _open_until:
            return False
        try:
            state_cache_flush()  # also the probe: it fails while Redis does not answer
        except REDIS_ERRORS as exc:
            _open_until = time.monotonic() + retry_seconds()
            logger.info("Redis still unavailable: %s", exc)
            return False
        _open_until = 0.0
        logger.warning("Redis answers again: its cached access state was flushed")
        return True
    finally:
        _lock.release()


def _client() -> redis.Redis:
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]  # RedisCache's


def state_cache_flush() -> int:
    """Delete every cached access state under this deployment's prefix; how many keys."""
    client = _client()
    deleted = 0
    for pattern in STATE_KEY_PATTERNS:
        match = cache.make_key(pattern)
        batch: list[bytes] = []
        for key in client.scan_iter(match=match, count=_SCAN_BATCH):
            batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                deleted += client.unlink(*batch)
                batch = []
        if batch:
            deleted += client.unlink(*batch)
    return deleted


def breaker_reset() -> None:
    """Close the breaker (tests)."""
    global _open_until
    with _lock:
        _open_until = 0.0
