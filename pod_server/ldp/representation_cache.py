"""A bounded cache of generated representations, keyed by strong validators.

Two representations are expensive to make and cheap to reuse: the listing of a large container
and an RDF document converted out of its stored Turtle (JSON-LD, RDF/XML, ...). Both are fully
determined by the resource's ETag (a strong validator: it changes whenever the body, the media
type or, for a container, any child's metadata changes — the Backend invariant) plus the
requested form: the media type and, for JSON-LD, the profiles or the SHA-256 of the client's
frame (``pod_server.ldp.operations._form``). So a key of (path, ETag, form...) can never serve
stale bytes, nor one frame's document for another; entries of old ETags simply age out. Each
worker process has its own cache, bounded in bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class RepresentationCache:
    """A thread-safe LRU of bytes, at most ``max_bytes`` in total; items over a quarter of that
    are not kept. ``max_bytes=0`` disables it (the null cache)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        if not self.max_bytes:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: bytes) -> None:
        if not self.max_bytes or len(value) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        return self._size


__all__ = ["RepresentationCache"]
