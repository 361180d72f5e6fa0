"""Who owns a storage: the seam that lets the resource server advertise ``solid:owner``.

Solid Protocol §4.1: "When a server wants to advertise the owner of a storage, the server MUST
include the Link header with rel="http://www.w3.org/ns/solid/terms#owner" targeting the URI of the
owner in the response of HTTP HEAD or GET requests targeting the root container."
"""

from __future__ import annotations

from typing import Protocol


class OwnerLookup(Protocol):
    """Invariant: ``owners_of`` has no side effects and returns ``()`` for unknown storages."""

    def owners_of(self, root_path: str) -> tuple[str, ...]:
        """The WebIDs owning the storage whose root container is at ``root_path``."""
        ...


class NoOwners:
    """The null implementation: no storage advertises an owner."""

    def owners_of(self, root_path: str) -> tuple[str, ...]:
        return ()


__all__ = ["NoOwners", "OwnerLookup"]
