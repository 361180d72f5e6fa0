"""Throttling against brute force: at most ``limit`` events per key in a sliding ``window``.

Per process (each worker counts on its own, so the effective limit is ``limit * workers``); the
accounts module keeps its own login-failure counts in the database.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from pod_server.idp.errors import OAuthError


@dataclass
class Throttle:
    limit: int
    window: float
    what: str
    clock: Callable[[], float] = time.monotonic
    _events: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def check(self, key: str) -> None:
        """Raise 429 if ``key`` is over its limit (without counting this call)."""
        now = self.clock()
        with self._lock:
            events = self._recent(key, now)
            if len(events) >= self.limit:
                retry = max(1, int(events[0] + self.window - now) + 1)
                raise OAuthError(
                    "slow_down",
                    f"too many {self.what}; try again in {retry} seconds",
                    status=429,
                    headers={"Retry-After": str(retry)},
                )
            if len(self._events) > 50_000:  # forget idle keys rather than grow without bound
                for idle in [k for k, v in self._events.items() if not v]:
                    del self._events[idle]

    def hit(self, key: str) -> None:
        """Count one event for ``key``, raising 429 first when it is over the limit."""
        self.check(key)
        with self._lock:
            self._recent(key, self.clock()).append(self.clock())


__all__ = ["Throttle"]
