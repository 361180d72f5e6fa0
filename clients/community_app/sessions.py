"""Server-side visitor state: logins in progress and the logged-in ``pod_client`` session.

The browser's cookie holds only a random session id (``sid``, 256 bits); the tokens, the DPoP key
and the PKCE verifier stay in this process, in a :class:`SessionStore` keyed by that id. They are
never put in the cookie, a page, a URL or a log line.

:class:`MemorySessionStore` keeps them in this process's memory: run the app as one process
(several threads are fine). A multi-process deployment needs a shared store implementing the
same protocol.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pod_client.session import LoginRequest, Session

PENDING_LIFETIME = 600.0
"""Seconds a started login may take before its state is forgotten."""
MAX_PENDING = 5
"""Logins in progress per visitor (more tabs than this: the oldest is dropped)."""


@dataclass
class PendingLogin:
    """A login sent to the provider and not yet back: what the callback needs to finish it."""

    login: LoginRequest
    """The redirect URI, state, nonce and PKCE verifier pod_client made for this login."""
    session: Session
    """Not logged in yet: holds the issuer's metadata, the client id and the DPoP key."""
    return_to: str
    started: float


@dataclass
class Visit:
    """One browser's state. ``login`` is ``None`` while logged out."""

    sid: str
    login: Session | None = None
    pending: dict[str, PendingLogin] = field(default_factory=dict)
    last_seen: float = 0.0

    def add_pending(self, pending: PendingLogin, now: float) -> None:
        self.pending = {k: p for k, p in self.pending.items() if now - p.started < PENDING_LIFETIME}
        while len(self.pending) >= MAX_PENDING:
            self.pending.pop(next(iter(self.pending)))
        self.pending[pending.login.state] = pending

    def take_pending(self, state: str, now: float) -> PendingLogin | None:
        """The login this state belongs to, removed (a state is used once), if still fresh."""
        found = self.pending.pop(state, None)
        if found is None or now - found.started >= PENDING_LIFETIME:
            return None
        return found


class SessionStore(Protocol):
    """Visits by session id. ``get`` answers ``None`` for an unknown or expired id."""

    def get(self, sid: str) -> Visit | None: ...
    def create(self) -> Visit: ...
    def rotate(self, visit: Visit) -> Visit:
        """The same state under a new id (after a login: no session fixation); the old id is gone."""
        ...

    def delete(self, sid: str) -> None: ...


class MemorySessionStore:
    """A :class:`SessionStore` in this process's memory; visits idle for ``idle`` seconds expire."""

    def __init__(self, idle: float = 8 * 3600.0, clock: Callable[[], float] = time.time) -> None:
        self.idle = idle
        self.clock = clock
        self._visits: dict[str, Visit] = {}
        self._lock = threading.Lock()

    def get(self, sid: str) -> Visit | None:
        now = self.clock()
        with self._lock:
            self._expire(now)
            visit = self._visits.get(sid)
            if visit is not None:
                visit.last_seen = now
            return visit

    def create(self) -> Visit:
        visit = Visit(secrets.token_urlsafe(32), last_seen=self.clock())
        with self._lock:
            self._visits[visit.sid] = visit
        return visit

    def rotate(self, visit: Visit) -> Visit:
        fresh = Visit(secrets.token_urlsafe(32), visit.login, dict(visit.pending), self.clock())
        with self._lock:
            self._visits.pop(visit.sid, None)
            self._visits[fresh.sid] = fresh
        return fresh

    def delete(self, sid: str) -> None:
        with self._lock:
            self._visits.pop(sid, None)

    def _expire(self, now: float) -> None:
        for sid in [s for s, v in self._visits.items() if now - v.last_seen >= self.idle]:
            visit = self._visits.pop(sid)
            if visit.login is not None:
                visit.login.close()

    def __len__(self) -> int:
        return len(self._visits)


__all__ = ["MAX_PENDING", "PENDING_LIFETIME", "MemorySessionStore", "PendingLogin", "SessionStore", "Visit"]
