"""Passwords and random secrets: how they are made, hashed and compared.

Passwords are hashed with argon2id at OWASP's first recommended setting (Password Storage Cheat
Sheet: 19 MiB of memory, 2 iterations, 1 lane) rather than argon2-cffi's default 64 MiB: a small
server verifying a burst of logins at once should not need 64 MiB for each. Client secrets and
account tokens are 256-bit random values, so a plain SHA-256 of them is as strong as a slow hash
(RFC 9106 §1 is about low-entropy passwords); only the hash is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _random
import threading

from argon2 import PasswordHasher
from argon2 import exceptions as argon2_errors


def owasp_hasher() -> PasswordHasher:
    """argon2id, 19 MiB, 2 iterations, 1 lane (OWASP Password Storage Cheat Sheet)."""
    return PasswordHasher(memory_cost=19 * 1024, time_cost=2, parallelism=1)


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
"""Longer passwords are refused before hashing: argon2 cost grows with input only a little, but
form bodies should not."""


class Passwords:
    """Hash and verify passwords; ``verify`` costs the same whether or not an account exists."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or owasp_hasher()
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    @property
    def dummy(self) -> str:
        """Verified against when the email is unknown, so both answers take one argon2 run. Made
        on first use, not at start-up, so a worker starts without an argon2 run."""
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self.hasher.hash(_random.token_hex(16))
            return self._dummy

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(stored or self.dummy, password) and stored is not None
        except (argon2_errors.VerificationError, argon2_errors.InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)


def new_token(nbytes: int = 32) -> str:
    """A random, URL-safe token (never a URL: only letters, digits, ``-`` and ``_``)."""
    return _random.token_urlsafe(nbytes)


def new_client_id() -> str:
    """A random client id that no Solid client library mistakes for a Client ID Document URL."""
    return _random.token_hex(16)


def digest(secret: str) -> str:
    """The stored form of a high-entropy secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(stored: str, secret: str) -> bool:
    return hmac.compare_digest(stored, digest(secret))


__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "Passwords",
    "digest",
    "new_client_id",
    "new_token",
    "same_digest",
]
