"""The replay cache: remembers DPoP proof ``jti`` values so each proof is accepted once.

RFC 9449 §11.1: the server MUST NOT accept a proof whose ``jti`` it has seen within the time
window it accepts proofs for. :class:`ReplayCache` is the seam; :class:`MemoryReplayCache` serves
one process, :class:`RedisReplayCache` every worker and every server sharing one Redis.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from pod_server.errors import ServiceUnavailable


class ReplayCache(Protocol):
    """Invariants: ``first_use(key, ttl)`` is atomic: of any number of concurrent calls with one key
    within ``ttl`` seconds, exactly one returns ``True``. Keys are opaque strings."""

    def first_use(self, key: str, ttl: int) -> bool:
        """Record ``key`` for ``ttl`` seconds; ``True`` if it was not recorded already."""
        ...


class MemoryReplayCache:
    """A dict with expiry times, pruned as it grows. For one process (tests, one worker)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = 100_000) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._max = max_entries

    def first_use(self, key: str, ttl: int) -> bool:
        now = self._clock()
        with self._lock:
            expires = self._seen.get(key)
            if expires is not None and expires > now:
                return False
            if len(self._seen) >= self._max:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
                if len(self._seen) >= self._max:  # still full of live keys: refuse rather than forget
                    raise ServiceUnavailable("too many recent proofs; try again shortly")
            self._seen[key] = now + ttl
            return True


class RedisReplayCache:
    """Keys in Redis with ``SET NX EX``: atomic across processes and hosts."""

    def __init__(self, client: Any, prefix: str = "pod-server:dpop:") -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> RedisReplayCache:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2))

    def first_use(self, key: str, ttl: int) -> bool:
        import redis

        name = self._prefix + hashlib.sha256(key.encode()).hexdigest()
        try:
            return bool(self._client.set(name, b"1", nx=True, ex=max(1, ttl)))
        except redis.RedisError:
            raise ServiceUnavailable(
                "the replay cache is unreachable; try again shortly", headers={"Retry-After": "2"}
            ) from None


__all__ = ["MemoryReplayCache", "RedisReplayCache", "ReplayCache"]
