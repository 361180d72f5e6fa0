"""What the identity provider and the resource server need to know about accounts.

:class:`AccountDirectory` is the seam between ``pod_server.accounts`` (which owns the tables, the
pages and the CLI) and ``pod_server.idp`` (which issues tokens). The SQL implementation lives in
``pod_server.accounts.service``; :class:`MemoryAccountDirectory` is for tests and development.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    webids: tuple[str, ...] = ()
    """The WebIDs this account may log in as: those of its pods and verified external ones."""


@dataclass(frozen=True, slots=True)
class ClientCredential:
    """A ``client_id``/``client_secret`` pair an account made for scripts, bound to one WebID."""

    client_id: str
    webid: str
    account_id: str
    name: str = ""


class AccountDirectory(Protocol):
    """Invariants: lookups have no side effects; secrets and passwords are compared in constant
    time and never returned; a deleted account is not found and its credentials no longer work."""

    def authenticate(self, email: str, password: str) -> Account | None:
        """The account with this email and password, or ``None`` (same cost either way)."""
        ...

    def get(self, account_id: str) -> Account | None: ...

    def check_client_secret(self, client_id: str, client_secret: str) -> ClientCredential | None:
        """The credential when ``client_secret`` is right for ``client_id``, else ``None``."""
        ...


@dataclass
class MemoryAccountDirectory:
    """Accounts in a dict, passwords in clear: for tests only."""

    accounts: dict[str, tuple[Account, str]] = field(default_factory=dict)
    credentials: dict[str, tuple[ClientCredential, str]] = field(default_factory=dict)

    def add(self, account: Account, password: str) -> Account:
        self.accounts[account.id] = (account, password)
        return account

    def add_credential(self, credential: ClientCredential, secret: str) -> ClientCredential:
        self.credentials[credential.client_id] = (credential, secret)
        return credential

    def authenticate(self, email: str, password: str) -> Account | None:
        for account, stored in self.accounts.values():
            if account.email == email and hmac.compare_digest(stored, password):
                return account
        return None

    def get(self, account_id: str) -> Account | None:
        found = self.accounts.get(account_id)
        return found[0] if found else None

    def check_client_secret(self, client_id: str, client_secret: str) -> ClientCredential | None:
        found = self.credentials.get(client_id)
        if found is None or not hmac.compare_digest(found[1], client_secret):
            return None
        return found[0]


__all__ = ["Account", "AccountDirectory", "ClientCredential", "MemoryAccountDirectory"]
