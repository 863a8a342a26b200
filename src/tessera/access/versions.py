"""The version store: each tenant's policy version and each membership's version, current in
every process (docs/decisions/0003-policy-cache.md).

Any write that changes access bumps one of them in its transaction (`tenancy.services`); the bump
is announced (`tenancy.events`) and this store drops its cached copy, writing the committed value
back after the commit. With Redis configured a read is one `MGET`, filled from the database on a
miss; without Redis it is one indexed database query, so several server processes never disagree
(an in-process cache could not be invalidated across processes). That query is compiled once per
connection and prepared once on PostgreSQL (`tessera.access.prepared`): on this hot path the ORM's
per-call SQL compilation and PostgreSQL's planning would cost several times the query itself.
Likewise the Redis read goes through one process-wide client (`redis_get_many`; Django's cache
builds a new client object on every call) on the process's shared connection pool
(`tessera.redis_pool`), with the cache's own key function and serializer; writes and deletes go
through the Django cache.

A request reads its session's liveness in the same round trip (`tessera.authn.session_state`),
with the keys and loaders below.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisSerializer
from django.db import DatabaseError, transaction

from tessera.access.prepared import PreparedRow
from tessera.access.redis_breaker import (
    REDIS_ERRORS,
    redis_available,
    redis_configured,
    redis_failed,
)
from tessera.redis_pool import shared_pool
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

STATE_TTL = 3600


@dataclass(frozen=True, slots=True)
class AccessState:
    session_ok: bool
    membership_ok: bool
    tenant_version: int
    membership_version: int
    mfa_verified_at: datetime | None = None
    risk_score: int = 0
    password_change_required: bool = False
    last_activity_at: datetime | None = None
    idle_seconds: int = 0
    mfa_setup_required: bool = False
    device_trusted: bool = False
    spent: int | None = None  # a ride-along budget counter's value after this request's spend


DENIED = AccessState(False, False, 0, 0)


def tenant_key(tenant_id) -> str:
    return f"pv:t:{tenant_id}"


def membership_key(tenant_id, membership_id) -> str:
    return f"pv:m:{tenant_id}:{membership_id}"


def uses_redis() -> bool:
    """Read through Redis: configured, and answering (`tessera.access.redis_breaker`)."""
    return redis_available()


_redis_lock = threading.Lock()
_redis_client: _Client | None = None
_serializer = RedisSerializer()


@dataclass(frozen=True, slots=True)
class RideAlong:
    """A request-budget counter spent in the same round trip as a state read
    (`redis_get_many_counting`; the budget's rule is `tessera.api.throttle`'s).

    `key`: the counter's Redis key as the `limits` storage names it (prefix included); `expiry`:
    its window in seconds. The counter is spent exactly as `limits`' fixed window spends it
    (INCRBY 1; EXPIRE when it was the window's first request)."""

    key: str
    expiry: int


# MGET of KEYS[1..n-1] and the fixed-window spend of KEYS[n] (limits' `incr_expire.lua`, cost 1):
# the values, then the counter. A missing key answers false (nil to the client).
_READ_AND_SPEND = """
local n = #KEYS
local values = redis.call('MGET', unpack(KEYS, 1, n - 1))
local count = redis.call('INCRBY', KEYS[n], 1)
if count == 1 then
    redis.call('EXPIRE', KEYS[n], ARGV[1])
end
values[n] = count
return values
"""


@dataclass(frozen=True, slots=True)
class _Client:
    url: str
    redis: redis.Redis
    read_and_spend: Any  # redis.commands.core.Script: EVALSHA, loaded again on NOSCRIPT


def _client() -> _Client:
    global _redis_client
    entry = _redis_client
    url = settings.REDIS_URL or ""  # asked only when a Redis URL is configured (uses_redis)
    if entry is None or entry.url != url:
        with _redis_lock:
            client = redis.Redis(connection_pool=shared_pool(url))
            entry = _Client(url, client, client.register_script(_READ_AND_SPEND))
            _redis_client = entry
    return entry


def _decoded(keys: list[str], raw: list) -> dict:
    return {
        key: _serializer.loads(value)
        for key, value in zip(keys, raw, strict=True)
        if isinstance(value, bytes)  # a missing key answers None
    }


def redis_get_many(keys: list[str]) -> dict:
    """`cache.get_many` in one MGET, through a client kept for the process."""
    return _decoded(keys, _client().redis.mget([cache.make_and_validate_key(k) for k in keys]))


def redis_get_many_counting(keys: list[str], counter: RideAlong | None) -> tuple[dict, int | None]:
    """`redis_get_many`, and `counter` spent, in one round trip (one EVALSHA): what was found, and
    the counter's value after this spend (None without a counter: a plain MGET)."""
    if counter is None:
        return redis_get_many(keys), None
    client = _client()
    raw = client.read_and_spend(
        keys=[*(cache.make_and_validate_key(k) for k in keys), counter.key],
        args=[counter.expiry],
    )
    return _decoded(keys, raw[: len(keys)]), int(raw[len(keys)])


_MEMBERSHIP_STATE_ROW = PreparedRow(
    Membership,
    lambda pk: (
        Membership.objects.filter(pk=pk)
        .values_list(
            "status",
            "version",
            "tenant__policy_version",
            "tenant__is_active",
            "user__is_active",
            "tenant_id",
        )
        .order_by()[:1]
    ),
)


def load_tenant(tenant_id) -> tuple:
    row = Tenant.objects.filter(pk=tenant_id).values_list("policy_version", "is_active").first()
    return (row[0], row[1]) if row else (0, False)


def load_membership(tenant_id, membership_id) -> tuple:
    row = (
        Membership.objects.filter(pk=membership_id, tenant_id=tenant_id)
        .values_list("version", "status", "user__is_active")
        .first()
    )
    return (row[0], row[1] == MembershipStatus.ACTIVE and row[2]) if row else (0, False)


def cache_fill(missing: dict) -> None:
    """Cache what a reader loaded — only where no writer has put a fresher value (SET NX).

    A reader may have loaded its row before a concurrent change committed; the writer sets the
    post-commit value (see `refresh_after_commit`), and NX keeps the reader from overwriting it.
    """
    try:
        for key, value in missing.items():
            cache.add(key, value, STATE_TTL)
    except REDIS_ERRORS as exc:  # the answer stands: it came from the database
        redis_failed(exc)


def membership_state(
    *, tenant_id, membership_id, now: datetime, counter: RideAlong | None = None
) -> AccessState:
    """Whether the membership may act (it, its user and its tenant active) and its versions: the
    state behind a credential without a session (an API key), or of a member asked about.
    With `counter`, that counter is spent in the same Redis round trip (`AccessState.spent`;
    None when it was not: no Redis)."""
    if not uses_redis():
        return _membership_state_db(tenant_id, membership_id)
    keys = [tenant_key(tenant_id), membership_key(tenant_id, membership_id)]
    try:
        found, spent = redis_get_many_counting(keys, counter)
    except REDIS_ERRORS as exc:
        redis_failed(exc)
        return _membership_state_db(tenant_id, membership_id)
    return versions_state(
        found,
        tenant_id=tenant_id,
        membership_id=membership_id,
        session_ok=True,
        extras={"spent": spent},
    )


def membership_states(*, tenant_id, membership_ids, now: datetime) -> dict[str, AccessState]:
    """`membership_state` of several memberships of one tenant, in one round trip (one query, or
    one `MGET` that also fetches the tenant's version), by membership id (str). An id that is not
    the tenant's answers DENIED."""
    ids = [str(pk) for pk in dict.fromkeys(membership_ids)]
    if not ids:
        return {}
    if not uses_redis():
        rows = Membership.objects.filter(pk__in=ids, tenant_id=tenant_id).values_list(
            "pk",
            "status",
            "version",
            "tenant__policy_version",
            "tenant__is_active",
            "user__is_active",
        )
        states = dict.fromkeys(ids, DENIED)
        for pk, status, version, tenant_version, tenant_active, user_active in rows:
            ok = status == MembershipStatus.ACTIVE and bool(tenant_active) and bool(user_active)
            states[str(pk)] = AccessState(True, ok, tenant_version, version)
        return states
    keys = [tenant_key(tenant_id), *(membership_key(tenant_id, pk) for pk in ids)]
    found = redis_get_many(keys)
    if found.get(keys[0]) is None:  # loaded (and cached) once, not once per membership
        found[keys[0]] = load_tenant(tenant_id)
        cache_fill({keys[0]: found[keys[0]]})
    return {
        pk: versions_state(found, tenant_id=tenant_id, membership_id=pk, session_ok=True, extras={})
        for pk in ids
    }


def _membership_state_db(tenant_id, membership_id) -> AccessState:
    row = _MEMBERSHIP_STATE_ROW.fetch(membership_id)
    if row is None or str(row[5]) != str(tenant_id):
        return DENIED
    ok = row[0] == MembershipStatus.ACTIVE and bool(row[3]) and bool(row[4])
    return AccessState(True, ok, row[2], row[1])


def versions_state(
    found: dict, *, tenant_id, membership_id, session_ok: bool, extras: dict
) -> AccessState:
    """The answer from what one `MGET` found (loading and caching what it did not)."""
    missing = {}
    tver = found.get(tenant_key(tenant_id))
    if tver is None:
        tver = missing[tenant_key(tenant_id)] = load_tenant(tenant_id)
    mver = found.get(membership_key(tenant_id, membership_id))
    if mver is None:
        mver = missing[membership_key(tenant_id, membership_id)] = load_membership(
            tenant_id, membership_id
        )
    cache_fill(missing)
    return AccessState(
        session_ok=session_ok,
        membership_ok=bool(mver[1]) and bool(tver[1]),
        tenant_version=tver[0],
        membership_version=mver[0],
        **extras,
    )


def refresh_after_commit(key: str, load: Callable[[], tuple]) -> None:
    """Drop the cached state now, and after commit store the committed value (plain SET).

    Readers fill with SET NX, so a reader that loaded the old row before the commit can never
    overwrite the value written here: the next request in any process sees the change.

    Tried even while this process's breaker is open (another process may use Redis again); a
    failure opens the breaker, whose flush before Redis is trusted again removes the old copy.
    """
    if not redis_configured():
        return
    try:
        cache.delete(key)
    except REDIS_ERRORS as exc:
        redis_failed(exc)
    transaction.on_commit(lambda: _store(key, load))


def _store(key: str, load: Callable[[], tuple]) -> None:
    try:
        value = load()
    except DatabaseError:  # committed, then the database went away: readers fill the key later
        return
    try:
        cache.set(key, value, STATE_TTL)
    except REDIS_ERRORS as exc:
        redis_failed(exc)


def state_invalidate_tenant(*, tenant_id) -> None:
    refresh_after_commit(tenant_key(tenant_id), lambda: load_tenant(tenant_id))


def state_invalidate_membership(*, membership_id, tenant_id=None) -> None:
    if tenant_id is None:
        tenant_id = (
            Membership.objects.filter(pk=membership_id).values_list("tenant_id", flat=True).first()
        )
    refresh_after_commit(
        membership_key(tenant_id, membership_id),
        lambda: load_membership(tenant_id, membership_id),
    )
