"""A member's compiled policy and its caches (its input from the rows: `bridge.policy_input`).

A compiled policy is cached under the key (tenant id, membership id, tenant policy version,
membership version): in this process (a bounded LRU) and in the Django cache (Redis when
configured; pickled). Any write that changes access bumps one of the two versions in its
transaction, so a key never names stale data; the versions themselves come from the request's
one round trip (`tessera.authn.session_state.access_state`) or are read when absent. The caches
only hold compiled policies: they never decide whether one is current. Expiry needs no write either:
assignments, delegations and grants reach the engine with their time windows.
See docs/decisions/0003-policy-cache.md."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from tessera import metrics
from tessera.access.bridge.policy_input import _load_policy_input, _version, subject_for
from tessera.access.redis_breaker import REDIS_ERRORS, redis_failed, shared_cache_usable
from tessera.engine import (
    COMPILED_FORMAT,
    CompiledPolicy,
    PolicyError,
    PolicyInput,
    Subject,
    compile_policy,
)
from tessera.tenancy.models import Membership

logger = logging.getLogger("tessera.access")

BUNDLE_FORMAT = 2
"""Bumped when the cached `MemberPolicy` shape changes (the engine's format is in the key too)."""


# --- the compiled policy and its caches ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberPolicy:
    """What a check needs about one member at one pair of versions: the compiled policy and the
    subject. `refresh_at`: the moment something held only from then on starts to apply (a grant
    to a role delegated from a future date); the entry is rebuilt once it has passed."""

    policy: CompiledPolicy
    subject: Subject
    tenant_version: int
    membership_version: int
    refresh_at: datetime | None = None

    def fresh_at(self, now: datetime) -> bool:
        return self.refresh_at is None or now < self.refresh_at


class PolicyLRU:
    """A bounded, thread-safe, in-process map from cache key to `MemberPolicy`.

    It keeps at most one entry per (tenant, membership): storing a newer version drops the older.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = max(1, maxsize)
        self._data: OrderedDict[tuple, MemberPolicy] = OrderedDict()
        self._latest: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> MemberPolicy | None:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def put(self, key: tuple, value: MemberPolicy) -> None:
        owner = key[:2]
        with self._lock:
            previous = self._latest.get(owner)
            if previous is not None and previous != key:
                self._data.pop(previous, None)
            self._data[key] = value
            self._data.move_to_end(key)
            self._latest[owner] = key
            while len(self._data) > self.maxsize:
                old_key, _ = self._data.popitem(last=False)
                if self._latest.get(old_key[:2]) == old_key:
                    del self._latest[old_key[:2]]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._latest.clear()

    def __len__(self) -> int:
        return len(self._data)


LOCAL_CACHE = PolicyLRU(getattr(settings, "POLICY_CACHE_SIZE", 10_000))
SHARED_TTL = getattr(settings, "POLICY_CACHE_TTL", 24 * 3600)


def cache_key(tenant_id, membership_id, tenant_version: int, membership_version: int) -> tuple:
    return (str(tenant_id), str(membership_id), int(tenant_version), int(membership_version))


def _shared_key(key: tuple) -> str:
    return f"cp:{BUNDLE_FORMAT}.{COMPILED_FORMAT}:{key[0]}:{key[1]}:{key[2]}:{key[3]}"


def stored_versions(membership: Membership) -> tuple[int, int]:
    """(tenant policy version, membership version) as stored now (one indexed query)."""
    row = (
        Membership.objects.filter(pk=membership.pk)
        .values_list("tenant__policy_version", "version")
        .first()
    )
    if row is None:
        return 0, 0
    return int(row[0]), int(row[1])


def _may_store() -> bool:
    """Whether a policy compiled now may be cached: not inside a transaction, whose writes (and
    version bumps) could still roll back and let a later, different change reuse the same version
    numbers. The test runner's wrapping transactions stand in for autocommit and do not count."""
    if not connection.in_atomic_block:
        return True
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def build_member_policy(
    membership: Membership,
    tenant_version: int,
    membership_version: int,
    *,
    now: datetime | None = None,
) -> MemberPolicy:
    """Compile without any cache (also the reference the cache is tested against)."""
    version = _version(tenant_version, membership_version)
    loaded = _load_policy_input(membership, version=version, now=now)
    try:
        compiled = compile_policy(loaded.policy_input)
    except PolicyError:
        # stored data the engine refuses (written around the services, or by an older release):
        # fail closed — this member is denied everything until the data is fixed (which bumps a
        # version and recompiles)
        logger.exception("the policy of membership %s does not compile; denying", membership.pk)
        compiled = compile_policy(
            PolicyInput(str(membership.tenant_id), str(membership.pk), {}, version=version)
        )
    return MemberPolicy(
        policy=compiled,
        subject=subject_for(membership, now=now),
        tenant_version=tenant_version,
        membership_version=membership_version,
        refresh_at=loaded.refresh_at,
    )


def member_policy(
    membership: Membership,
    tenant_version: int | None = None,
    membership_version: int | None = None,
    *,
    now: datetime | None = None,
) -> MemberPolicy:
    """The member's compiled policy and subject at the given versions (read when absent or 0).

    `membership` must be a row loaded from the database (validated): unknown ids never reach the
    caches. In-process LRU first, then the shared cache, then compile and store in both.
    """
    if not tenant_version or not membership_version:
        tenant_version, membership_version = stored_versions(membership)
    now = now or timezone.now()
    key = cache_key(membership.tenant_id, membership.pk, tenant_version, membership_version)
    found = LOCAL_CACHE.get(key)
    if found is not None and found.fresh_at(now):
        metrics.policy_cache_hit("local")
        return found
    shared = _shared_key(key)
    if found is None and shared_cache_usable():
        try:
            found = cache.get(shared)
        except REDIS_ERRORS as exc:  # Redis away: compile here (tessera.access.redis_breaker)
            redis_failed(exc)
            found = None
        except Exception:  # a cache entry that no longer unpickles is a miss
            logger.warning("unreadable compiled policy in the cache: %s", shared, exc_info=True)
            found = None
        if not isinstance(found, MemberPolicy):
            found = None
        if found is not None and found.fresh_at(now):
            LOCAL_CACHE.put(key, found)
            metrics.policy_cache_hit("shared")
            return found
    metrics.policy_cache_miss()
    found = build_member_policy(membership, tenant_version, membership_version, now=now)
    if not _may_store():
        return found
    LOCAL_CACHE.put(key, found)
    if not shared_cache_usable():
        return found
    try:
        cache.set(shared, found, SHARED_TTL)
    except REDIS_ERRORS as exc:
        redis_failed(exc)
    except Exception:  # the shared cache is an optimisation: never fail a check over it
        logger.warning("could not store a compiled policy in the cache", exc_info=True)
    return found


def compiled_policy(
    membership: Membership, tenant_version: int | None = None, membership_version: int | None = None
) -> CompiledPolicy:
    """The member's compiled policy at the given versions (read from the database when absent)."""
    return member_policy(membership, tenant_version, membership_version).policy


def clear_local_cache() -> None:
    """Empty this process's compiled-policy cache (tests, benchmarks)."""
    LOCAL_CACHE.clear()
