"""A process's Redis connections (tessera.redis_pool): as many as its threads use at once, however
many requests it serves — the open descriptors of `make soak` (issue #18)."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.cache import cache

from tessera.access.versions import redis_get_many
from tessera.authn.lockout import limits_storage
from tessera.redis_pool import shared_pool

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts sockets in /proc"),
]

THREADS = 4


def redis_sockets() -> int:
    """This process's open TCP connections to the Redis server of the settings."""
    port = urlsplit(settings.REDIS_URL).port or 6379
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/self/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] in inodes and fields[3] == "01":  # ESTABLISHED
                count += 1
    return count


def cache_using_app(environ, start_response):
    """A WSGI view that reads and writes the cache, as Tessera's requests do."""
    cache.set("pool-test", environ["PATH_INFO"], 30)
    value = cache.get("pool-test")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(value).encode()]


async def serve_through_the_bridge(requests: int) -> list[int]:
    """`requests` requests through a2wsgi on THREADS threads (each one in a fresh context copy)."""
    bridge = WSGIMiddleware(cache_using_app, workers=THREADS)
    transport = httpx.ASGITransport(app=bridge)  # type: ignore[arg-type]
    statuses: list[int] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
        for start in range(0, requests, THREADS * 2):
            batch = [client.get(f"/{n}") for n in range(start, min(requests, start + THREADS * 2))]
            statuses += [response.status_code for response in await asyncio.gather(*batch)]
    bridge.executor.shutdown(wait=True)
    return statuses


@pytest.fixture
def no_garbage_collection():
    """Sockets that only the cycle collector would close stay open, as between two full
    collections of a busy server process."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


@pytest.mark.usefixtures("no_garbage_collection")
def test_requests_through_the_wsgi_bridge_reuse_the_process_redis_connections():
    before = redis_sockets()
    statuses = asyncio.run(serve_through_the_bridge(120))
    assert statuses == [200] * 120
    # one connection per thread at most, not one per request
    assert redis_sockets() - before <= THREADS


@pytest.mark.usefixtures("no_garbage_collection")
def test_cache_version_reads_and_rate_limits_share_one_connection_in_a_thread(settings):
    # a URL of its own (the same server): new clients for the cache, the versions, the limits
    url = f"{settings.REDIS_URL}?client_name=tessera-pool-test"
    settings.REDIS_URL = url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    before = redis_sockets()

    def one_request() -> None:
        cache.set("pool-test", 1, 30)
        assert redis_get_many(["pool-test"]) == {"pool-test": 1}
        limits_storage().incr("pool-test", 30)

    try:
        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(one_request).result()
        assert redis_sockets() - before == 1
    finally:
        shared_pool(url).disconnect()
