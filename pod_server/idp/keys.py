"""The provider's signing keys: made at first start, kept in the database, rotated by the operator.

For each algorithm (ES256 and RS256) the newest key that is not retired is *current* and signs new
tokens. :func:`rotate_keys` adds a new current key per algorithm; older keys stay in the JWKS, so
tokens they signed still verify, until :func:`retire_keys` removes them. The private keys never
leave the database; ``jwks()`` publishes the public halves with their ``kid``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from joserfc.jwk import ECKey, Key, RSAKey

from pod_server.db import Database
from pod_server.idp import tables

ALGORITHMS = ("ES256", "RS256")


def _generate(alg: str) -> Key:
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True)
    raise ValueError(f"unsupported signing algorithm {alg}")


def _import(private_jwk: str) -> Key:
    data = json.loads(private_jwk)
    return ECKey.import_key(data) if data["kty"] == "EC" else RSAKey.import_key(data)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    key: Key
    created_at: float

    def public_jwk(self) -> dict[str, Any]:
        jwk = dict(self.key.as_dict(private=False))
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk


@dataclass
class KeyStore:
    """Reads keys from the database, caching them for ``cache_seconds`` so a rotation made by
    another process (the CLI) is seen soon without a query per token."""

    database: Database
    clock: Callable[[], float] = time.time
    cache_seconds: float = 30.0
    _cached: tuple[float, list[SigningKey]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ensure(self) -> None:
        """Create a key for every algorithm that has none. Safe when several workers start at once:
        the check and the insert share one write transaction."""
        with self.database.begin() as conn:
            have = {row.alg for row in conn.execute(sa.select(tables.keys.c.alg).distinct())}
            for alg in ALGORITHMS:
                if alg not in have:
                    _insert(conn, alg, self.clock())
        self.refresh()

    def refresh(self) -> list[SigningKey]:
        with self.database.connect() as conn:
            rows = conn.execute(
                sa.select(tables.keys)
                .where(tables.keys.c.retired_at.is_(None))
                .order_by(tables.keys.c.created_at.desc(), tables.keys.c.kid)
            ).all()
        found = [SigningKey(r.kid, r.alg, _import(r.private_jwk), r.created_at) for r in rows]
        with self._lock:
            self._cached = (self.clock(), found)
        return found

    def active(self) -> list[SigningKey]:
        """Every key not retired, newest first."""
        with self._lock:
            cached = self._cached
        if cached is None or self.clock() - cached[0] > self.cache_seconds:
            return self.refresh()
        return cached[1]

    def current(self, alg: str) -> SigningKey:
        for key in self.active():
            if key.alg == alg:
                return key
        self.ensure()
        return next(k for k in self.active() if k.alg == alg)

    def find(self, kid: str) -> SigningKey | None:
        return next((k for k in self.active() if k.kid == kid), None)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.active()]}


def _insert(conn: sa.Connection, alg: str, now: float) -> str:
    kid = f"{alg.lower()}-{secrets.token_urlsafe(12)}"
    private = json.dumps(_generate(alg).as_dict(private=True))
    conn.execute(sa.insert(tables.keys).values(kid=kid, alg=alg, private_jwk=private, created_at=now))
    return kid


def rotate_keys(database: Database, clock: Callable[[], float] = time.time) -> list[str]:
    """Add a new current key for each algorithm; older keys keep verifying. Returns the new kids."""
    with database.begin() as conn:
        # created_at must order the new key after every existing one, even on a coarse clock.
        newest = conn.execute(sa.select(sa.func.max(tables.keys.c.created_at))).scalar() or 0.0
        now = max(clock(), newest + 0.001)
        return [_insert(conn, alg, now) for alg in ALGORITHMS]


def retire_keys(database: Database, clock: Callable[[], float] = time.time) -> list[str]:
    """Retire every key that is not current for its algorithm: it leaves the JWKS, so tokens it
    signed stop verifying. Run it once the longest token lifetime has passed since a rotation."""
    retired: list[str] = []
    with database.begin() as conn:
        rows = conn.execute(
            sa.select(tables.keys.c.kid, tables.keys.c.alg)
            .where(tables.keys.c.retired_at.is_(None))
            .order_by(tables.keys.c.created_at.desc())
        ).all()
        seen: set[str] = set()
        for row in rows:
            if row.alg in seen:
                retired.append(row.kid)
            seen.add(row.alg)
        if retired:
            conn.execute(
                sa.update(tables.keys).where(tables.keys.c.kid.in_(retired)).values(retired_at=clock())
            )
    return retired


__all__ = ["ALGORITHMS", "KeyStore", "SigningKey", "retire_keys", "rotate_keys"]
