"""The storage backend interface: bytes and metadata, nothing Solid.

A backend knows paths, bodies, media types and validators. It does not know about containment
triples, description resources, access control or events: those rules live once, in
:class:`pod_server.store.resource_store.ResourceStore`.

Implementations: :mod:`~pod_server.store.memory` (tests, development),
:mod:`~pod_server.store.filesystem` (the default), :mod:`~pod_server.store.sql` (SQLAlchemy).
All of them pass ``tests/store/test_backend_contract.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

CONTAINER_TYPE = "text/turtle"
"""The media type a backend records for containers (their own body is Turtle)."""


@dataclass(frozen=True, slots=True)
class Meta:
    """What a backend knows about a stored resource without reading its body.

    ``etag`` is a strong validator without quotes: it changes whenever the body, the media type
    or (for a container) the set of children or any child's metadata changes.
    ``mtime`` is seconds since the epoch, with sub-second precision where the backend has it.
    """

    path: str
    content_type: str
    size: int
    mtime: float
    etag: str

    @property
    def is_container(self) -> bool:
        return self.path.endswith("/")

    @property
    def name(self) -> str:
        """The last segment, with the trailing slash for containers: ``/a/b/`` -> ``b/``."""
        trimmed = self.path[:-1] if self.is_container else self.path
        return trimmed.rsplit("/", 1)[-1] + ("/" if self.is_container else "")


@dataclass(frozen=True, slots=True)
class Stored:
    meta: Meta
    body: bytes


@runtime_checkable
class Backend(Protocol):
    """Dumb storage of bodies and metadata under paths.

    Invariants every implementation keeps (the contract tests check each one):

    - A path is absolute, starts with ``/`` and is in canonical URL-path form (the store
      normalises it). A path ending in ``/`` is a container; any other path is a document.
    - The root container ``/`` always exists; it is created when the backend is opened.
    - ``stat``, ``read`` and ``delete`` of a missing path raise :class:`~pod_server.errors.NotFound`.
    - ``write`` creates or replaces one resource atomically: a reader (in this or any other
      process) sees the old version or the new one, never a mix, and a crash at any moment
      leaves one of the two. Its parent container must exist (else ``NotFound``). Writing a
      container path creates the container, or replaces the container's own body, and keeps
      its children. Writing ``/a/b`` while ``/a/b/`` exists, or the reverse, raises ``Conflict``.
    - Writing or deleting a child changes its parent container's ``etag`` and ``mtime``.
    - ``delete`` of a container that still has children raises ``Conflict``; ``delete('/')``
      raises ``Conflict``.
    - ``children`` lists direct children only, sorted by path in code-point order, starting
      after the child path ``after`` (exclusive) when given, at most ``limit`` of them. It never
      reads bodies: listing a container of 100,000 children costs their metadata only.
    - ``lock(path)`` is an exclusive lock on one path, held across threads and, for backends that
      share storage between processes, across processes. It is not re-entrant; callers that take
      two locks take the ancestor's first.
    - ``transaction()`` groups the writes made inside it so they commit together where the
      backend can (SQL); where it cannot, each write is still atomic on its own.
    """

    def stat(self, path: str) -> Meta: ...

    def read(self, path: str) -> Stored: ...

    def write(self, path: str, body: bytes, content_type: str) -> Meta: ...

    def delete(self, path: str) -> None: ...

    def children(self, path: str, *, after: str | None = None, limit: int | None = None) -> list[Meta]: ...

    def lock(self, path: str) -> AbstractContextManager[None]: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


def parent_of(path: str) -> str:
    """``/a/b/c`` -> ``/a/b/``; ``/a/b/`` -> ``/a/``. The root has no parent (ValueError)."""
    if path == "/":
        raise ValueError("the root container has no parent")
    trimmed = path[:-1] if path.endswith("/") else path
    return trimmed[: trimmed.rindex("/") + 1]


def ancestors(path: str) -> Iterator[str]:
    """The containers above ``path``, nearest first, ending with ``/``."""
    while path != "/":
        path = parent_of(path)
        yield path


__all__ = ["CONTAINER_TYPE", "Backend", "Meta", "Stored", "ancestors", "parent_of"]
