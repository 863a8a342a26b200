"""One Redis connection pool per process and server: the cache, the version store's reads and the
rate limits share it, so a process holds at most as many Redis connections as it has threads
using Redis at once (docs/operations/deployment.md, "Open descriptors").

Why not Django's own `RedisCache`: `django.core.cache.caches` is context-local (asgiref `Local`),
and the WSGI bridge (a2wsgi) runs every request in a fresh copy of the event loop's context, as
Channels does each WebSocket consumer. Each of those therefore built its own `RedisCache`, with a
connection pool of its own and a new TCP connection to Redis (connect, SELECT) — and `close()` of
Django's Redis cache does nothing, so the socket stayed open until the garbage collector found the
cycle, minutes later on a busy process: the open descriptors `make soak` saw climbing (issue #18).
`RedisCache` below is Django's with the pool taken from `shared_pool`; a cache object costs no
connection of its own.

The pool is redis-py's `ConnectionPool` (thread-safe, and it resets itself in a forked child),
built from `settings.REDIS_CLIENT_OPTIONS` (timeouts, no retries): every Tessera Redis client
behaves the same. It is unbounded: a thread holds one connection for one command or pipeline, so
the pool grows to the number of threads that use Redis at the same moment and stays there.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

__all__ = ["RedisCache", "shared_pool", "shared_pools_clear"]

_lock = threading.Lock()
_pools: dict[str, redis.ConnectionPool] = {}


def shared_pool(url: str) -> redis.ConnectionPool:
    """This process's pool for the Redis server at `url` (created on first use)."""
    pool = _pools.get(url)
    if pool is None:
        with _lock:
            pool = _pools.get(url)
            if pool is None:
                pool = redis.ConnectionPool.from_url(url, **settings.REDIS_CLIENT_OPTIONS)
                _pools[url] = pool
    return pool


def shared_pools_clear() -> None:
    """Disconnect and forget every pool (tests; a process that changes its Redis settings)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.disconnect()


class SharedPoolClient(RedisCacheClient):
    """Django's Redis cache client, on the process's shared pools instead of pools of its own
    (as Django's: writes to the first server, reads from another one when there are several)."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._urls = list(servers)

    def _get_connection_pool(self, write: bool) -> redis.ConnectionPool:
        if write or len(self._urls) == 1:
            return shared_pool(self._urls[0])
        return shared_pool(random.choice(self._urls[1:]))  # noqa: S311  (load spreading)


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` whose connections are the shared pool's."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolClient
