"""The Redis circuit breaker (tessera.access.redis_breaker) and the rate limits' fallback
(tessera.authn.limits_fallback); the outages themselves, on real processes: tests/failures."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from tessera.access.redis_breaker import (
    breaker_reset,
    redis_available,
    redis_failed,
    shared_cache_usable,
)
from tessera.authn.limits_fallback import FallbackStorage

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture(autouse=True)
def _closed_breaker(settings):
    settings.REDIS_RETRY_SECONDS = 0.05
    breaker_reset()
    yield
    breaker_reset()


def test_without_redis_configured_nothing_asks_it(settings):
    settings.REDIS_URL = None
    assert not redis_available()
    assert shared_cache_usable()  # the in-process cache


@pytest.mark.redis
def test_a_failure_keeps_redis_out_until_the_retry_interval_is_over():
    redis_failed(ConnectionError("refused"))
    assert not redis_available()
    assert not shared_cache_usable()
    time.sleep(0.06)
    assert redis_available()


@pytest.mark.redis
def test_the_cached_access_state_is_flushed_before_redis_is_used_again():
    cache.set("pv:m:tenant:member", (3, True))
    cache.set("pv:t:tenant", (7, True))
    cache.set("sess:tenant:session", ("state",))
    cache.set("policy:compiled", "kept")
    redis_failed(ConnectionError("refused"))
    time.sleep(0.06)
    assert redis_available()
    assert cache.get_many(["pv:m:tenant:member", "pv:t:tenant", "sess:tenant:session"]) == {}
    assert cache.get("policy:compiled") == "kept"  # keyed by versions: never stale


@pytest.mark.redis
def test_a_failed_probe_keeps_the_breaker_open(settings):
    redis_failed(ConnectionError("refused"))
    time.sleep(0.06)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": settings.REDIS_CLIENT_OPTIONS,
        }
    }
    assert not redis_available()


def test_rate_limits_count_in_memory_while_redis_is_away(settings):
    settings.REDIS_URL = DEAD_REDIS
    settings.REDIS_RETRY_SECONDS = 60
    primary = storage_from_string(DEAD_REDIS, **settings.REDIS_CLIENT_OPTIONS)
    limiter = MovingWindowRateLimiter(FallbackStorage(primary))
    item = RateLimitItemPerMinute(3)
    started = time.monotonic()
    assert [limiter.hit(item, "fallback", "me") for _ in range(4)] == [True, True, True, False]
    assert time.monotonic() - started < 2  # one refused connection, then memory only
    assert not redis_available()  # the failure opened the breaker
