"""The store's constraint hook (pod_server/store/constraints.py) without HTTP: what server code sees
when it writes into a shape-constrained container, and what a write into an unconstrained one costs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rdflib import Literal

from pod_server.errors import ShapeViolation, UnprocessableContent
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.rdf.limits import RdfLimits
from pod_server.rdf.patch import parse_patch
from pod_server.shapes import ShapeLibrary
from pod_server.store import events
from pod_server.store.backend import Meta, Stored
from pod_server.store.constraints import NoConstraints, ShapeConstraints, ShapeResolver
from pod_server.store.memory import MemoryBackend
from pod_server.store.resource_store import ResourceStore
from pod_server.vocab import LDP, SH

BASE = "http://pod.example/"
TURTLE = "text/turtle"
EX = "http://example.org/ns#"
SHAPE = f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <{EX}> .
<#NoteShape> a sh:NodeShape ; sh:targetClass ex:Note ;
  sh:property [ sh:path ex:text ; sh:minCount 1 ; sh:message "A note has an ex:text" ] ."""
NOTE = f'<#n> a <{EX}Note> ; <{EX}text> "hi" .'.encode()
EMPTY_NOTE = f"<#n> a <{EX}Note> .".encode()


class CountingBackend(MemoryBackend):
    """The memory backend, counting stat and read calls per path."""

    def __init__(self) -> None:
        super().__init__()
        self.stats: list[str] = []
        self.reads: list[str] = []

    def stat(self, path: str) -> Meta:
        self.stats.append(path)
        return MemoryBackend.read(self, path).meta  # MemoryBackend.stat reads: don't count that

    def read(self, path: str) -> Stored:
        self.reads.append(path)
        return super().read(path)


@pytest.fixture
def library(tmp_path: Path) -> ShapeLibrary:
    (tmp_path / "note.ttl").write_text(SHAPE, encoding="utf-8")
    return ShapeLibrary.bundled(tmp_path, base_url=BASE)


@pytest.fixture
def backend() -> CountingBackend:
    return CountingBackend()


@pytest.fixture
def store(backend: CountingBackend, library: ShapeLibrary) -> ResourceStore:
    ids = IdentifierMap(BASE, single_pod=True)
    resolver = ShapeResolver(library, backend, ids, RdfLimits())
    s = ResourceStore(backend, ids, RdfLimits(), ShapeConstraints(backend, ids, resolver))
    s.put("/notes/", b"", TURTLE, BASE + "notes/")
    meta = f"<./> <{LDP.constrainedBy}> <https://w3id.org/pod-server/shapes/note> .".encode()
    s.put("/notes/.meta", meta, TURTLE, BASE + "notes/.meta")
    return s


@pytest.fixture
def changes() -> Iterator[list[str]]:
    seen: list[str] = []

    def on(sender: object, **kw: Any) -> None:
        seen.append(kw["path"])

    events.created.connect(on)
    events.updated.connect(on)
    try:
        yield seen
    finally:
        events.created.disconnect(on)
        events.updated.disconnect(on)


def test_the_store_is_unconstrained_by_default() -> None:
    store = ResourceStore(MemoryBackend(), IdentifierMap(BASE, single_pod=True), RdfLimits())
    assert isinstance(store.constraints, NoConstraints)
    store.put("/notes/a", EMPTY_NOTE, TURTLE, BASE + "notes/a")


def test_server_code_gets_a_shape_violation_with_the_report(store: ResourceStore, changes: list[str]) -> None:
    with pytest.raises(ShapeViolation) as caught:
        store.put("/notes/a", EMPTY_NOTE, TURTLE, BASE + "notes/a")
    violation = caught.value
    assert violation.status == 422
    assert violation.shape == "https://w3id.org/pod-server/shapes/note"
    assert violation.report is not None
    assert (None, SH.conforms, Literal(False)) in violation.report
    assert "A note has an ex:text" in violation.detail
    assert violation.headers["Link"] == f'<{violation.shape}>; rel="{LDP.constrainedBy}"'
    assert changes == []
    with pytest.raises(ShapeViolation):
        store.create_child(
            "/notes/", EMPTY_NOTE, TURTLE, slug="a", as_container=False, base_of=lambda p: BASE + p[1:]
        )
    assert [m.path for m in store.read_container("/notes/").children] == []


def test_conforming_writes_go_through(store: ResourceStore) -> None:
    store.put("/notes/a", NOTE, TURTLE, BASE + "notes/a")
    meta = store.create_child(
        "/notes/", NOTE, TURTLE, slug="b", as_container=False, base_of=lambda p: BASE + p[1:]
    )
    assert meta.path == "/notes/b"


def test_a_patch_is_checked_on_its_result(store: ResourceStore) -> None:
    store.put("/notes/a", NOTE, TURTLE, BASE + "notes/a")
    before = store.read("/notes/a")
    breaking = f"""@prefix solid: <http://www.w3.org/ns/solid/terms#>.
_:p a solid:InsertDeletePatch; solid:where {{ <#n> <{EX}text> ?t }};
  solid:deletes {{ <#n> <{EX}text> ?t }}."""
    with pytest.raises(ShapeViolation):
        store.patch("/notes/a", parse_patch(breaking.encode(), "text/n3", BASE + "notes/a"), BASE + "notes/a")
    assert store.read("/notes/a") == before


def test_shapes_and_descriptions_are_not_checked_themselves(store: ResourceStore) -> None:
    store.put("/notes/a", NOTE, TURTLE, BASE + "notes/a")
    store.put("/notes/a.meta", f"<a> <{EX}p> 1 .".encode(), TURTLE, BASE + "notes/a.meta")
    store.put("/notes/.acl", b"", TURTLE, BASE + "notes/.acl")


def test_an_unconstrained_write_costs_one_stat_of_the_description(
    store: ResourceStore, backend: CountingBackend
) -> None:
    store.put("/plain/", b"", TURTLE, BASE + "plain/")
    plain = ResourceStore(backend, store.ids, RdfLimits())  # the same data, without the hook
    for s, name in ((plain, "a"), (store, "b")):
        backend.stats.clear()
        backend.reads.clear()
        s.put("/plain/" + name, NOTE, TURTLE, BASE + "plain/" + name)
        if s is plain:
            baseline = list(backend.stats)
    assert backend.stats.count("/plain/.meta") == 1
    assert len(backend.stats) == len(baseline) + 1
    assert backend.reads == []


def test_a_description_is_read_once_per_etag(store: ResourceStore, backend: CountingBackend) -> None:
    store.put("/notes/a", NOTE, TURTLE, BASE + "notes/a")
    backend.reads.clear()
    for name in ("b", "c", "d"):
        store.put("/notes/" + name, NOTE, TURTLE, BASE + "notes/" + name)
    assert "/notes/.meta" not in backend.reads
    store.put(
        "/notes/.meta", f'<./> <{EX}title> "no constraint now" .'.encode(), TURTLE, BASE + "notes/.meta"
    )
    store.put("/notes/e", EMPTY_NOTE, TURTLE, BASE + "notes/e")
    assert backend.reads.count("/notes/.meta") == 1


def test_a_shape_from_another_pod_goes_through_the_fetcher(library: ShapeLibrary) -> None:
    """Provider mode: a shape stored in another pod is not read from storage (its ACL would not
    be checked); without a fetcher, that is a 422 naming it."""
    backend = MemoryBackend()
    ids = IdentifierMap(BASE)
    store = ResourceStore(
        backend,
        ids,
        RdfLimits(),
        ShapeConstraints(backend, ids, ShapeResolver(library, backend, ids, RdfLimits())),
    )
    store.put("/bob/", b"", TURTLE, BASE + "bob/")
    store.put("/bob/shape", SHAPE.encode(), TURTLE, BASE + "bob/shape")
    store.put("/alice/notes/", b"", TURTLE, BASE + "alice/notes/")
    store.put(
        "/alice/notes/.meta",
        f"<./> <{LDP.constrainedBy}> <{BASE}bob/shape> .".encode(),
        TURTLE,
        BASE + "alice/notes/.meta",
    )
    with pytest.raises(UnprocessableContent) as caught:
        store.put("/alice/notes/a", NOTE, TURTLE, BASE + "alice/notes/a")
    assert f"{BASE}bob/shape" in caught.value.detail
    assert not isinstance(caught.value, ShapeViolation)
    # In the same pod, it is read from storage.
    store.put("/alice/shape", SHAPE.encode(), TURTLE, BASE + "alice/shape")
    store.put(
        "/alice/notes/.meta",
        f"<./> <{LDP.constrainedBy}> <{BASE}alice/shape> .".encode(),
        TURTLE,
        BASE + "alice/notes/.meta",
    )
    store.put("/alice/notes/a", NOTE, TURTLE, BASE + "alice/notes/a")
    with pytest.raises(ShapeViolation):
        store.put("/alice/notes/b", EMPTY_NOTE, TURTLE, BASE + "alice/notes/b")


def test_storage_roots_are_never_checked(library: ShapeLibrary) -> None:
    backend = MemoryBackend()
    ids = IdentifierMap(BASE)
    store = ResourceStore(
        backend,
        ids,
        RdfLimits(),
        ShapeConstraints(backend, ids, ShapeResolver(library, backend, ids, RdfLimits())),
    )
    store.put("/", b"", TURTLE, BASE)
    store.put(
        "/.meta",
        f"<./> <{LDP.constrainedBy}> <https://w3id.org/pod-server/shapes/note> .".encode(),
        TURTLE,
        BASE + ".meta",
    )
    store.put("/alice/", b"", TURTLE, BASE + "alice/")  # a pod, not a child of a constrained container
    assert store.stat("/alice/").is_container
