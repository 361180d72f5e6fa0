"""The ResourceStore's Solid rules over the memory backend (the HTTP tests cover them end to end)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pod_server.errors import Conflict, MethodNotAllowed, NotFound
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.rdf.limits import RdfLimits
from pod_server.store import events
from pod_server.store.memory import MemoryBackend
from pod_server.store.resource_store import ResourceStore, sanitize_slug

TEXT = "text/plain"


@pytest.fixture
def store() -> ResourceStore:
    return ResourceStore(MemoryBackend(), IdentifierMap("http://pod.example/", single_pod=True), RdfLimits())


@pytest.fixture
def received(store: ResourceStore) -> Iterator[list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []

    def on(kind: str) -> Any:
        def handler(sender: object, **kw: Any) -> None:
            if sender is store:
                seen.append((kind, kw["path"]))
                assert kw["url"] == "http://pod.example" + kw["path"]
                assert kw["etag"]

        return handler

    handlers = {name: on(name) for name in ("created", "updated", "deleted")}
    events.created.connect(handlers["created"])
    events.updated.connect(handlers["updated"])
    events.deleted.connect(handlers["deleted"])
    yield seen
    events.created.disconnect(handlers["created"])
    events.updated.disconnect(handlers["updated"])
    events.deleted.disconnect(handlers["deleted"])


def test_put_creates_intermediates_and_emits_events(
    store: ResourceStore, received: list[tuple[str, str]]
) -> None:
    written = store.put("/a/b/c.txt", b"hi", TEXT, "http://pod.example/a/b/c.txt")
    assert written.created
    assert received == [("created", "/a/"), ("created", "/a/b/"), ("created", "/a/b/c.txt")]
    store.put("/a/b/c.txt", b"ho", TEXT, "http://pod.example/a/b/c.txt")
    assert received[-1] == ("updated", "/a/b/c.txt")
    store.delete("/a/b/c.txt")
    assert received[-1] == ("deleted", "/a/b/c.txt")


def test_delete_takes_auxiliary_resources_along(
    store: ResourceStore, received: list[tuple[str, str]]
) -> None:
    store.put("/x.txt", b"x", TEXT, "http://pod.example/x.txt")
    store.backend.write("/x.txt.meta", b"", "text/turtle")
    store.delete("/x.txt")
    assert ("deleted", "/x.txt.meta") in received
    with pytest.raises(NotFound):
        store.stat("/x.txt.meta")


def test_storage_root_cannot_be_deleted(store: ResourceStore) -> None:
    with pytest.raises(MethodNotAllowed):
        store.delete("/")


def test_non_empty_container_cannot_be_deleted(store: ResourceStore) -> None:
    store.put("/c/x.txt", b"x", TEXT, "http://pod.example/c/x.txt")
    with pytest.raises(Conflict):
        store.delete("/c/")


def test_container_pages_skip_auxiliary_resources(store: ResourceStore) -> None:
    for name in ("a", "b", "c", "d"):
        store.put(f"/p/{name}", b"x", TEXT, "")
        store.backend.write(f"/p/{name}.meta", b"", "text/turtle")
    first = store.read_container("/p/", limit=2)
    assert [m.path for m in first.children] == ["/p/a", "/p/b"]
    assert first.next_after == "/p/b"
    second = store.read_container("/p/", after=first.next_after, limit=2)
    assert [m.path for m in second.children] == ["/p/c", "/p/d"]
    assert second.next_after is None or store.read_container("/p/", after="/p/d", limit=2).children == []


def test_post_picks_free_names(store: ResourceStore) -> None:
    store.put("/c/taken", b"x", TEXT, "")
    made = store.create_child("/c/", b"x", TEXT, slug="taken", as_container=False, base_of=lambda p: p)
    assert made.path.startswith("/c/taken-") and made.path != "/c/taken"
    folder = store.create_child("/c/", b"", "text/turtle", slug="box", as_container=True, base_of=lambda p: p)
    assert folder.path == "/c/box/"


@pytest.mark.parametrize(
    ("slug", "name"),
    [
        ("notes", "notes"),
        ("my notes", "my%20notes"),
        ("../up", "..-up"),
        ("a/b\\c", "a-b-c"),
        ("..", ""),
        ("x.acl", "x.acl-"),
        ("x.meta", "x.meta-"),
        (".well-known", "-.well-known"),
        ("caf%C3%A9", "caf%C3%A9"),
        ("\x00\x01", ""),
        ("y" * 300, "y" * 100),
    ],
)
def test_sanitize_slug(slug: str, name: str) -> None:
    assert sanitize_slug(slug) == name


class BodylessListing(MemoryBackend):
    """A memory backend that, once ``listing`` is set, fails any read of a document's body."""

    listing = False  # set once the children exist

    def read(self, path: str) -> Any:
        if self.listing and not path.endswith("/"):
            raise AssertionError(f"read the body of {path} while listing")
        return super().read(path)

    def stat(self, path: str) -> Any:
        return self._items[path].meta if path in self._items else super().stat(path)


def test_listing_reads_no_child_bodies() -> None:
    backend = BodylessListing()
    store = ResourceStore(backend, IdentifierMap("http://pod.example/", single_pod=True), RdfLimits())
    for i in range(2000):
        store.put(f"/big/{i:05d}", b"x" * 10, TEXT, "")
    backend.listing = True
    view = store.read_container("/big/")
    assert len(view.children) == 2000
    assert view.children[0].size == 10
