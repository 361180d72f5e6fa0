"""The access seam: may these credentials perform this operation?

Every request passes through :class:`AccessPolicy` ``.authorize(operation, credentials)``
between parsing and the LDP operation. It raises ``Unauthorized`` (401, nobody logged in) or
``Forbidden`` (403) to deny. This issue ships :class:`AllowAll`; Web Access Control replaces it
(and is the only thing that changes).
"""

from __future__ import annotations

from typing import Protocol

from pod_server.access.credentials import Credentials
from pod_server.ldp.model import Operation


class AccessPolicy(Protocol):
    """Invariant: ``authorize`` has no side effects and either returns or raises a PodError."""

    def authorize(self, operation: Operation, credentials: Credentials) -> None: ...


class AllowAll:
    """The null policy: everyone may do everything. For development until WAC lands."""

    def authorize(self, operation: Operation, credentials: Credentials) -> None:
        return None


__all__ = ["AccessPolicy", "AllowAll"]
