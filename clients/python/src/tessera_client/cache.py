"""An optional, short-lived, bounded local cache of decisions; off unless the application asks.

What it costs — the staleness it allows: with the cache on, a decision Tessera has changed since
(a role removed, a grant revoked, a member deactivated, a session logged out) can still be served
from the cache for up to `ttl` seconds — unless the application subscribes to Tessera's
`permissions.changed` notifications (`tessera_client.realtime`) or calls `invalidate(...)` itself,
which drop the affected entries at once. With the cache off (the default), every decision is
Tessera's current one.

A subscriber made with `NotificationSubscriber.for_client` also *gates* the cache
(`serve_only_while`): while its stream is not connected (not yet, or cut) the cache answers
nothing and every decision is asked of Tessera live — fail closed — until the stream is back.

Entries are keyed by everything that went into the question (tenant, user, session, the action,
the resource, the context, the subject asked about) and only ever filled from a token the SDK has
verified, so one caller's entries are never served to another. The cache holds at most
`max_entries` entries (least recently used dropped first), each for at most `ttl` seconds.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class _Entry:
    value: Any
    expires: float
    tenant_id: str | None
    user_ids: frozenset[str]


class DecisionCache:
    """A thread-safe LRU cache with a time-to-live and targeted invalidation."""

    def __init__(
        self,
        *,
        ttl: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive (leave the cache off instead)")
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        self._live: Callable[[], bool] | None = None
        self.hits = 0
        self.misses = 0

    def serve_only_while(self, live: Callable[[], bool] | None) -> None:
        """Answer from the cache only while `live()` is true (e.g. a notification stream is
        connected, so invalidations can reach it); None serves always (up to `ttl`)."""
        self._live = live

    @staticmethod
    def key(scope: tuple[Any, ...], kind: str, body: Any) -> Hashable:
        """A key for a question `body` of `kind` asked with the credential `scope`."""
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return (*scope, kind, text)

    @property
    def generation(self) -> int:
        """Bumped by every invalidation; `put` drops answers to questions asked before it."""
        return self._generation

    def get(self, key: Hashable) -> Any | None:
        if self._live is not None and not self._live():
            self.misses += 1  # nothing could tell us about changes: ask Tessera
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            if entry.expires <= self._clock():
                del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.value

    def put(
        self,
        key: Hashable,
        value: Any,
        *,
        tenant_id: str | None,
        user_ids: Iterable[str | None],
        generation: int,
    ) -> None:
        """Store `value`, unless an invalidation happened since `generation` was read."""
        users = frozenset(str(u) for u in user_ids if u is not None)
        with self._lock:
            if generation != self._generation:
                return
            self._entries[key] = _Entry(value, self._clock() + self.ttl, tenant_id, users)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, user_id: str | None = None, tenant_id: str | None = None) -> int:
        """Drop the entries about `user_id` and/or in `tenant_id`; everything when neither is given.

        Entries whose tenant is unknown (asked with an API key) are dropped by any tenant's
        invalidation. Returns how many entries were dropped.
        """
        user = None if user_id is None else str(user_id)
        tenant = None if tenant_id is None else str(tenant_id)
        with self._lock:
            self._generation += 1
            if user is None and tenant is None:
                dropped = len(self._entries)
                self._entries.clear()
                return dropped
            doomed = [
                key
                for key, entry in self._entries.items()
                if (user is None or user in entry.user_ids)
                and (tenant is None or entry.tenant_id is None or entry.tenant_id == tenant)
            ]
            for key in doomed:
                del self._entries[key]
            return len(doomed)

    def clear(self) -> None:
        self.invalidate()

    def __len__(self) -> int:
        return len(self._entries)
