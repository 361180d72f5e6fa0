"""An in-memory backend for tests and development. Not shared between processes."""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pod_server.errors import Conflict, NotFound
from pod_server.store.backend import CONTAINER_TYPE, Meta, Stored, parent_of


class MemoryBackend:
    """Keeps every resource in a dict; children are kept sorted per container for paging."""

    def __init__(self) -> None:
        self._items: dict[str, Stored] = {}
        self._children: dict[str, list[str]] = {}
        self._guard = threading.RLock()
        self._locks: dict[str, threading.Lock] = {}
        self._versions = itertools.count(1)
        self._put("/", b"", CONTAINER_TYPE)

    # -- helpers ---------------------------------------------------------------------------
    def _meta(self, path: str, size: int, content_type: str) -> Meta:
        return Meta(path, content_type, size, time.time(), f"m{next(self._versions):x}")

    def _put(self, path: str, body: bytes, content_type: str) -> Meta:
        meta = self._meta(path, len(body), content_type)
        self._items[path] = Stored(meta, body)
        if path.endswith("/"):
            self._children.setdefault(path, [])
        return meta

    def _touch(self, container: str) -> None:
        old = self._items[container]
        self._items[container] = Stored(self._meta(container, old.meta.size, old.meta.content_type), old.body)

    # -- Backend ---------------------------------------------------------------------------
    def stat(self, path: str) -> Meta:
        return self.read(path).meta

    def read(self, path: str) -> Stored:
        with self._guard:
            try:
                return self._items[path]
            except KeyError:
                raise NotFound(f"{path} does not exist") from None

    def write(self, path: str, body: bytes, content_type: str) -> Meta:
        with self._guard:
            parent = parent_of(path) if path != "/" else None
            if parent is not None and parent not in self._items:
                raise NotFound(f"the container {parent} does not exist")
            twin = path[:-1] if path.endswith("/") else path + "/"
            if twin in self._items:
                raise Conflict(f"{twin} already exists")
            if path.endswith("/"):
                content_type = CONTAINER_TYPE
            is_new = path not in self._items
            meta = self._put(path, body, content_type)
            if parent is not None:
                if is_new:
                    bisect.insort(self._children[parent], path)
                self._touch(parent)
            return meta

    def delete(self, path: str) -> None:
        with self._guard:
            if path == "/":
                raise Conflict("the root container cannot be deleted")
            if path not in self._items:
                raise NotFound(f"{path} does not exist")
            if self._children.get(path):
                raise Conflict(f"{path} is not empty")
            del self._items[path]
            self._children.pop(path, None)
            parent = parent_of(path)
            siblings = self._children[parent]
            del siblings[bisect.bisect_left(siblings, path)]
            self._touch(parent)

    def children(self, path: str, *, after: str | None = None, limit: int | None = None) -> list[Meta]:
        with self._guard:
            if path not in self._children:
                raise NotFound(f"{path} does not exist or is not a container")
            names = self._children[path]
            start = bisect.bisect_right(names, after) if after is not None else 0
            stop = len(names) if limit is None else start + limit
            return [self._items[p].meta for p in names[start:stop]]

    @contextmanager
    def lock(self, path: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(path, threading.Lock())
        with lock:
            yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def close(self) -> None:
        pass


__all__ = ["MemoryBackend"]
