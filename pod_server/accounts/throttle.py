"""Login throttling, shared by every worker through the database.

Each failed login adds one row per key (``email:<address>`` and ``ip:<address>``). Before checking
a password, :meth:`LoginThrottle.check` counts the key's failures in the last ``window`` seconds
(an index range scan) and refuses with 429 once a limit is reached (OWASP Authentication Cheat
Sheet, "Protect against automated attacks"). A successful login forgets its email's failures.
Old rows are deleted by a range on the ``at`` index whenever a failure is recorded.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, insert, select

from pod_server.accounts.tables import login_failures
from pod_server.db import Database
from pod_server.errors import TooManyRequests

TooManyAttempts = TooManyRequests
"""429: too many failed logins for an email or from an address."""


@dataclass
class LoginThrottle:
    db: Database
    per_email: int = 5
    per_ip: int = 50
    window: float = 15 * 60
    clock: Callable[[], float] = field(default=time.time)

    @staticmethod
    def _keys(email: str, ip: str | None) -> list[tuple[str, str]]:
        keys = [("email", "email:" + email.strip().lower())]
        if ip:
            keys.append(("ip", "ip:" + ip))
        return keys

    def check(self, email: str, ip: str | None) -> None:
        """Raise :class:`TooManyAttempts` (with ``Retry-After``) when a limit is reached."""
        now = self.clock()
        since = now - self.window
        with self.db.connect() as conn:
            for kind, key in self._keys(email, ip):
                limit = self.per_email if kind == "email" else self.per_ip
                count, oldest = conn.execute(
                    select(func.count(), func.min(login_failures.c.at)).where(
                        and_(login_failures.c.key == key, login_failures.c.at > since)
                    )
                ).one()
                if count >= limit:
                    retry = max(1, math.ceil(float(oldest) + self.window - now))
                    what = "this email" if kind == "email" else "your address"
                    raise TooManyAttempts(
                        f"too many failed log-in attempts for {what}; wait {retry} seconds and try again",
                        headers={"Retry-After": str(retry)},
                    )

    def failed(self, email: str, ip: str | None) -> None:
        now = self.clock()
        with self.db.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.at <= now - self.window))
            conn.execute(
                insert(login_failures), [{"key": key, "at": now} for _, key in self._keys(email, ip)]
            )

    def succeeded(self, email: str) -> None:
        key = self._keys(email, None)[0][1]
        with self.db.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.key == key))


__all__ = ["LoginThrottle", "TooManyAttempts"]
