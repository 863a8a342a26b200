"""Authenticating a request that carries an API key, and counting the key's use.

Authentication (`api_key_authenticate`) costs one round trip, the one every credential pays:
`access_state` (Redis MGET or one indexed query) says whether the membership and tenant are
active and gives their policy versions. The key row itself is cached in process by prefix, with
the versions it was read at; revoking a key (one, or all of a member's or a tenant's) bumps the
membership or tenant version in the same transaction, so a process whose cached row is older
than the versions it is shown reads the row again. Unknown, malformed, revoked, expired keys, keys
used from outside their `allowed_ips`, and keys of inactive memberships: one 401 body.

Usage (`last_used_at`, `last_used_ip`, `use_count`) is counted in process and written in one
UPDATE per key at most every `API_KEY_USAGE_FLUSH_SECONDS` (default 30), by the request that
finds a flush due (and by the listing), never per request. Each process adds its own counts
(`use_count + n`), so several processes need no coordination; one that dies loses at most its
last interval of counts.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F

from tessera.access.versions import RideAlong
from tessera.authn.api_key_text import (
    CACHE_SIZE,
    DEFAULT_FLUSH_SECONDS,
    INVALID_DETAIL,
    ApiKeyInvalid,
    ApiKeyMatch,
    key_digest,
    key_prefix_of,
)
from tessera.authn.models import ApiKey
from tessera.authn.session_state import access_state

logger = logging.getLogger("tessera.authn")

# --- authenticating a request -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    key_id: uuid.UUID
    digest: str
    tenant_id: Any
    membership_id: Any
    user_id: Any
    scopes: frozenset[str]
    networks: tuple
    expires_at: float | None
    revoked: bool
    versions: tuple[int, int]


class _KeyCache:
    """Key rows by prefix, bounded (oldest out first); reads take no lock."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, prefix: str) -> _Entry | None:
        return self._data.get(prefix)

    def put(self, prefix: str, entry: _Entry) -> None:
        with self._lock:
            self._data[prefix] = entry
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def drop(self, prefix: str) -> None:
        with self._lock:
            self._data.pop(prefix, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_cache = _KeyCache(CACHE_SIZE)

_ROW = (
    "id",
    "key_hash",
    "tenant_id",
    "membership_id",
    "membership__user_id",
    "scopes",
    "allowed_ips",
    "expires_at",
    "revoked_at",
    "tenant__policy_version",
    "membership__version",
)


def _may_cache() -> bool:
    """Not inside a transaction whose writes could still roll back (the test runner's wrapping
    transactions stand in for autocommit and do not count)."""
    if not connection.in_atomic_block:
        return True
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _load(prefix: str) -> _Entry | None:
    row = ApiKey.objects.filter(prefix=prefix).values_list(*_ROW).first()
    if row is None:
        return None
    key_id, digest, tid, mid, uid, scopes, ips, expires_at, revoked_at, tver, mver = row
    entry = _Entry(
        key_id=key_id,
        digest=digest,
        tenant_id=tid,
        membership_id=mid,
        user_id=uid,
        scopes=frozenset(str(s) for s in scopes or ()),
        networks=tuple(ipaddress.ip_network(n, strict=False) for n in ips or ()),
        expires_at=expires_at.timestamp() if expires_at else None,
        revoked=revoked_at is not None,
        versions=(int(tver or 0), int(mver or 0)),
    )
    if _may_cache():
        _cache.put(prefix, entry)
    return entry


def _ip_allowed(ip: str | None, networks: tuple) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def api_key_authenticate(
    raw: str,
    *,
    ip: str | None,
    now: datetime,
    counter: Callable[[Any, Any, Any], RideAlong | None] | None = None,
) -> ApiKeyMatch:
    """The key's owner, scopes and policy versions; ApiKeyInvalid (401) for any bad key.
    `counter(tenant_id, user_id, key_id)`: a request-budget counter to spend with the state read
    (`ApiKeyMatch.counter` and `.spent`)."""
    prefix = key_prefix_of(raw)
    if prefix is None:
        raise ApiKeyInvalid(INVALID_DETAIL)
    digest = key_digest(raw)
    entry = _cache.get(prefix) or _load(prefix)
    if entry is None or not hmac.compare_digest(entry.digest, digest):
        raise ApiKeyInvalid(INVALID_DETAIL)
    ride = counter(entry.tenant_id, entry.user_id, entry.key_id) if counter is not None else None
    state = access_state(
        session_id=None,
        tenant_id=entry.tenant_id,
        membership_id=entry.membership_id,
        now=now,
        counter=ride,
    )
    if (state.tenant_version, state.membership_version) != entry.versions:
        entry = _load(prefix)  # something changed since the row was read: read it again
        if entry is None or not hmac.compare_digest(entry.digest, digest):
            raise ApiKeyInvalid(INVALID_DETAIL)
    if (
        entry.revoked
        or not state.membership_ok
        or (entry.expires_at is not None and now.timestamp() >= entry.expires_at)
        or (entry.networks and not _ip_allowed(ip, entry.networks))
    ):
        raise ApiKeyInvalid(INVALID_DETAIL)
    _usage.record(entry.key_id, now, ip)
    return ApiKeyMatch(
        key_id=entry.key_id,
        tenant_id=entry.tenant_id,
        membership_id=entry.membership_id,
        user_id=entry.user_id,
        scopes=entry.scopes,
        tenant_version=state.tenant_version,
        membership_version=state.membership_version,
        counter=ride,
        spent=state.spent,
    )


# --- usage, in batches --------------------------------------------------------------------------


def _flush_seconds() -> float:
    return float(getattr(settings, "API_KEY_USAGE_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS))


class _Usage:
    """Uses per key since the last flush: (count, last time, last IP)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[uuid.UUID, list] = {}
        self._last_flush = time.monotonic()

    def record(self, key_id: uuid.UUID, at: datetime, ip: str | None) -> None:
        with self._lock:
            entry = self._pending.get(key_id)
            if entry is None:
                self._pending[key_id] = [1, at, ip]
            else:
                entry[0] += 1
                entry[1] = at
                entry[2] = ip
            due = time.monotonic() - self._last_flush >= _flush_seconds()
        if due:
            self.flush()

    def flush(self) -> int:
        with self._lock:
            pending, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
        for key_id, (count, at, ip) in pending.items():
            try:
                ApiKey.objects.filter(pk=key_id).update(
                    use_count=F("use_count") + count, last_used_at=at, last_used_ip=ip
                )
            except DatabaseError:  # usage is bookkeeping: never fail a request over it
                logger.warning("could not record the usage of API key %s", key_id, exc_info=True)
        return len(pending)

    def clear(self) -> None:
        with self._lock:
            self._pending = {}
            self._last_flush = time.monotonic()


_usage = _Usage()


def usage_flush() -> int:
    """Write this process's pending usage counts now; how many keys were written."""
    return _usage.flush()


def api_keys_clear_process_state() -> None:
    """Forget cached key rows and unflushed usage (tests, benchmarks)."""
    _cache.clear()
    _usage.clear()
