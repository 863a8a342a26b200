"""Rate-limit counters that survive a Redis outage: Redis while it answers, this process's memory
while it does not (docs/operations/failures.md).

`FallbackStorage` is a `limits` storage in front of the Redis one. When the Redis breaker is open
(`tessera.access.redis_breaker`), or a call fails (which opens it), the call goes to an in-memory
storage instead: each process then counts on its own, so with N processes a client may get up to
N times its budget, and lockout counters start from zero, until Redis answers again. The counts
made in memory are not copied to Redis afterwards. A limit never fails a request over Redis.
"""

from __future__ import annotations

from typing import Any

from limits.storage import MemoryStorage, MovingWindowSupport, Storage

from tessera.access.redis_breaker import REDIS_ERRORS, redis_available, redis_failed


class FallbackStorage(Storage, MovingWindowSupport):
    """Delegates to `primary` (Redis) while the breaker allows it, else to process memory."""

    STORAGE_SCHEME = None

    def __init__(self, primary: Storage) -> None:
        super().__init__()
        self.primary = primary
        self.memory = MemoryStorage()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return self.primary.base_exceptions

    def _call(self, name: str, *args: Any) -> Any:
        if redis_available():
            try:
                return getattr(self.primary, name)(*args)
            except REDIS_ERRORS as exc:
                redis_failed(exc)
        return getattr(self.memory, name)(*args)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return int(self._call("incr", key, expiry, amount))

    def get(self, key: str) -> int:
        return int(self._call("get", key))

    def get_expiry(self, key: str) -> float:
        return float(self._call("get_expiry", key))

    def check(self) -> bool:
        return bool(self._call("check"))

    def reset(self) -> int | None:
        self.memory.reset()
        return self._call("reset")

    def clear(self, key: str) -> None:
        self.memory.clear(key)
        self._call("clear", key)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return bool(self._call("acquire_entry", key, limit, expiry, amount))

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return self._call("get_moving_window", key, limit, expiry)
