"""The access seam: may these credentials perform this operation?

Every request passes through :class:`AccessPolicy` ``.authorize(operation, credentials)``
between parsing and the LDP operation. It raises ``Unauthorized`` (401, nobody logged in) or
``Forbidden`` (403) to deny, and otherwise returns the :class:`~pod_server.access.modes.Permissions`
the ``WAC-Allow`` header reports. :class:`AllowAll` is the null policy; Web Access Control replaces it.
"""

from __future__ import annotations

from typing import Protocol

from pod_server.access.credentials import Credentials
from pod_server.access.modes import ALL_MODES, Permissions
from pod_server.ldp.model import Operation


class AccessPolicy(Protocol):
    """Invariant: ``authorize`` has no side effects and either returns or raises a PodError."""

    def authorize(self, operation: Operation, credentials: Credentials) -> Permissions: ...


class AllowAll:
    """The null policy: everyone may do everything. For development and the memory backend's tests."""

    def authorize(self, operation: Operation, credentials: Credentials) -> Permissions:
        return Permissions(ALL_MODES, ALL_MODES)


__all__ = ["AccessPolicy", "AllowAll"]
