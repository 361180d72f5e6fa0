"""The Backend contract: one test per invariant in :class:`pod_server.store.backend.Backend`.

Every test runs against every backend (memory, filesystem, sqlite, postgres) through the
``backend`` fixture of ``conftest.py``.
"""

from __future__ import annotations

import itertools
import threading
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pod_server.errors import Conflict, NotFound
from pod_server.store.backend import CONTAINER_TYPE, Backend, Meta

# RFC 3986 §3.3: what a canonical segment may carry unencoded (as pod_server.ldp.identifiers).
SEGMENT_SAFE = "-._~!$&'()*+,;=:@"


def canonical(raw: str) -> str:
    return quote(raw, safe=SEGMENT_SAFE)


# -- paths and the root -----------------------------------------------------------------------


def test_root_container_exists_when_opened(backend: Backend) -> None:
    meta = backend.stat("/")
    assert meta.path == "/"
    assert meta.is_container
    assert meta.content_type == CONTAINER_TYPE
    assert backend.children("/") == []
    assert backend.read("/").meta.path == "/"


@pytest.mark.parametrize("path", ["/missing", "/missing/", "/missing/deeper", "/missing/deeper/"])
@pytest.mark.parametrize("operation", ["stat", "read", "delete"])
def test_stat_read_delete_of_a_missing_path_raise_not_found(
    backend: Backend, operation: str, path: str
) -> None:
    with pytest.raises(NotFound):
        getattr(backend, operation)(path)


def test_a_document_path_does_not_find_its_container_twin_and_vice_versa(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    backend.write("/d", b"x", "text/plain")
    for missing in ["/c", "/d/"]:
        with pytest.raises(NotFound):
            backend.stat(missing)
        with pytest.raises(NotFound):
            backend.read(missing)
        with pytest.raises(NotFound):
            backend.delete(missing)


# -- write ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"hello", "text/plain"),
        (b"", "text/plain"),
        (bytes(range(256)) * 3, "application/octet-stream"),
        (b"<> a <#T> .", "text/turtle"),
        (b"{}", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'),
        (b"no extension, odd type", "application/x-pod-test"),
    ],
)
def test_write_then_read_round_trips_bytes_and_media_type(
    backend: Backend, body: bytes, content_type: str
) -> None:
    written = backend.write("/doc", body, content_type)
    stored = backend.read("/doc")
    assert stored.body == body
    assert stored.meta.content_type == content_type
    assert stored.meta.size == len(body)
    assert stored.meta.path == "/doc"
    assert not stored.meta.is_container
    assert stored.meta.etag == written.etag
    assert backend.stat("/doc") == stored.meta
    assert written == stored.meta


def test_the_media_type_survives_a_matching_and_a_surprising_extension(backend: Backend) -> None:
    backend.write("/a.ttl", b"<> a <#T> .", "text/turtle")
    backend.write("/b.ttl", b"{}", "application/ld+json")
    backend.write("/c.png", b"not a png", "text/plain")
    assert backend.stat("/a.ttl").content_type == "text/turtle"
    assert backend.stat("/b.ttl").content_type == "application/ld+json"
    assert backend.stat("/c.png").content_type == "text/plain"


def test_overwrite_replaces_body_and_type_and_changes_etag(backend: Backend) -> None:
    first = backend.write("/doc.txt", b"one", "text/plain")
    same = backend.write("/doc.txt", b"one", "text/plain")
    assert same.etag != first.etag
    other_type = backend.write("/doc.txt", b"two", "text/markdown")
    assert other_type.etag not in {first.etag, same.etag}
    stored = backend.read("/doc.txt")
    assert (stored.body, stored.meta.content_type) == (b"two", "text/markdown")
    back = backend.write("/doc.txt", b"three", "text/plain")
    assert back.etag not in {first.etag, same.etag, other_type.etag}
    assert (backend.read("/doc.txt").body, backend.stat("/doc.txt").content_type) == (b"three", "text/plain")


def test_many_quick_overwrites_never_repeat_an_etag(backend: Backend) -> None:
    seen = {backend.write("/doc", b"same size", "text/plain").etag}
    for _ in range(30):
        etag = backend.write("/doc", b"same size", "text/plain").etag
        assert etag not in seen
        seen.add(etag)


def test_writing_a_container_creates_it_and_replacing_its_body_keeps_children(backend: Backend) -> None:
    created = backend.write("/c/", b"<> a <#Thing> .", CONTAINER_TYPE)
    assert created.is_container
    assert created.content_type == CONTAINER_TYPE
    backend.write("/c/child", b"x", "text/plain")
    replaced = backend.write("/c/", b"<> a <#Other> .", CONTAINER_TYPE)
    assert replaced.etag != created.etag
    stored = backend.read("/c/")
    assert stored.body == b"<> a <#Other> ."
    assert stored.meta.content_type == CONTAINER_TYPE
    assert stored.meta.size == len(b"<> a <#Other> .")
    assert [m.path for m in backend.children("/c/")] == ["/c/child"]
    assert backend.read("/c/child").body == b"x"


def test_an_empty_container_body_round_trips(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    stored = backend.read("/c/")
    assert stored.body == b""
    assert stored.meta.size == 0


def test_root_container_body_can_be_replaced(backend: Backend) -> None:
    before = backend.stat("/")
    backend.write("/", b"<> a <#Root> .", CONTAINER_TYPE)
    stored = backend.read("/")
    assert stored.body == b"<> a <#Root> ."
    assert stored.meta.etag != before.etag


@pytest.mark.parametrize("path", ["/nope/doc", "/nope/sub/", "/nope/deeper/doc"])
def test_writing_below_a_missing_container_raises_not_found(backend: Backend, path: str) -> None:
    with pytest.raises(NotFound):
        backend.write(path, b"", CONTAINER_TYPE if path.endswith("/") else "text/plain")
    with pytest.raises(NotFound):
        backend.stat(path)


def test_writing_below_a_document_raises_not_found(backend: Backend) -> None:
    backend.write("/doc", b"x", "text/plain")
    with pytest.raises(NotFound):
        backend.write("/doc/child", b"y", "text/plain")


def test_a_document_and_a_container_cannot_share_a_name(backend: Backend) -> None:
    backend.write("/x", b"doc", "text/plain")
    with pytest.raises(Conflict):
        backend.write("/x/", b"", CONTAINER_TYPE)
    backend.write("/y/", b"", CONTAINER_TYPE)
    with pytest.raises(Conflict):
        backend.write("/y", b"doc", "text/plain")
    assert backend.read("/x").body == b"doc"
    assert backend.stat("/y/").is_container
    assert [m.path for m in backend.children("/")] == ["/x", "/y/"]


# -- the parent's validators ------------------------------------------------------------------


def _changed(before: Meta, after: Meta) -> bool:
    return after.etag != before.etag and after.mtime >= before.mtime


def test_writing_or_deleting_a_child_changes_the_parent_etag_and_mtime(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    states = [backend.stat("/c/")]
    backend.write("/c/a", b"1", "text/plain")  # create
    states.append(backend.stat("/c/"))
    backend.write("/c/a", b"2", "text/plain")  # overwrite, same size
    states.append(backend.stat("/c/"))
    backend.write("/c/b/", b"", CONTAINER_TYPE)  # create a child container
    states.append(backend.stat("/c/"))
    backend.write("/c/b/", b"<> a <#X> .", CONTAINER_TYPE)  # replace a child container's body
    states.append(backend.stat("/c/"))
    backend.delete("/c/a")
    states.append(backend.stat("/c/"))
    backend.delete("/c/b/")
    states.append(backend.stat("/c/"))
    for before, after in itertools.pairwise(states):
        assert _changed(before, after)
    assert len({s.etag for s in states}) == len(states)


def test_the_root_etag_changes_when_a_top_level_child_changes(backend: Backend) -> None:
    before = backend.stat("/")
    backend.write("/doc", b"x", "text/plain")
    middle = backend.stat("/")
    backend.delete("/doc")
    after = backend.stat("/")
    assert _changed(before, middle)
    assert _changed(middle, after)


def test_a_nested_child_changes_its_own_parent(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    backend.write("/c/d/", b"", CONTAINER_TYPE)
    inner = backend.stat("/c/d/")
    backend.write("/c/d/doc", b"x", "text/plain")
    assert _changed(inner, backend.stat("/c/d/"))


# -- delete -----------------------------------------------------------------------------------


def test_delete_removes_a_document_and_an_empty_container(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    backend.write("/c/doc", b"x", "text/plain")
    backend.delete("/c/doc")
    with pytest.raises(NotFound):
        backend.read("/c/doc")
    assert backend.children("/c/") == []
    backend.delete("/c/")
    with pytest.raises(NotFound):
        backend.stat("/c/")
    assert backend.children("/") == []


def test_deleting_a_container_with_children_raises_conflict(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    backend.write("/c/doc", b"x", "text/plain")
    with pytest.raises(Conflict):
        backend.delete("/c/")
    assert backend.read("/c/doc").body == b"x"
    backend.write("/d/", b"", CONTAINER_TYPE)
    backend.write("/d/e/", b"", CONTAINER_TYPE)
    with pytest.raises(Conflict):
        backend.delete("/d/")


def test_deleting_the_root_raises_conflict(backend: Backend) -> None:
    with pytest.raises(Conflict):
        backend.delete("/")
    assert backend.stat("/").is_container


def test_a_deleted_name_can_be_reused_with_another_kind_and_type(backend: Backend) -> None:
    backend.write("/x", b"doc", "application/x-first")
    backend.delete("/x")
    backend.write("/x/", b"", CONTAINER_TYPE)
    backend.delete("/x/")
    backend.write("/x", b"again", "text/plain")
    assert backend.stat("/x").content_type == "text/plain"
    assert backend.read("/x").body == b"again"


# -- children ---------------------------------------------------------------------------------


def test_children_lists_direct_children_only_in_code_point_order(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    names = ["b", "B", "a", "a%20b", "a-b", "sub/", "%C3%A9t%C3%A9", "~tilde", "Z.ttl", ".acl"]
    for name in names:
        if name.endswith("/"):
            backend.write(f"/c/{name}", b"", CONTAINER_TYPE)
        else:
            backend.write(f"/c/{name}", name.encode(), "text/plain")
    backend.write("/c/sub/grandchild", b"deep", "text/plain")
    listed = backend.children("/c/")
    paths = [m.path for m in listed]
    assert paths == sorted(f"/c/{n}" for n in names)
    assert "/c/sub/grandchild" not in paths
    assert [m.path for m in backend.children("/c/sub/")] == ["/c/sub/grandchild"]


def test_children_pages_with_after_and_limit(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    for i in range(10):
        backend.write(f"/c/{i:02d}", b"x", "text/plain")
    backend.write("/c/05a/", b"", CONTAINER_TYPE)
    everything = [m.path for m in backend.children("/c/")]
    assert len(everything) == 11
    pages: list[str] = []
    after: str | None = None
    while True:
        page = backend.children("/c/", after=after, limit=3)
        assert len(page) <= 3
        if not page:
            break
        pages.extend(m.path for m in page)
        after = page[-1].path
    assert pages == everything
    assert [m.path for m in backend.children("/c/", after="/c/04")] == everything[5:]
    assert [m.path for m in backend.children("/c/", after="/c/045")] == everything[5:]  # need not exist
    assert backend.children("/c/", limit=0) == []
    assert backend.children("/c/", after="/c/99") == []
    assert [m.path for m in backend.children("/c/", limit=2)] == everything[:2]


def test_children_carry_the_same_metadata_as_stat(backend: Backend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    big = b"\0" * (2 * 1024 * 1024)
    backend.write("/c/big.bin", big, "application/octet-stream")
    backend.write("/c/card", b"<> a <#Person> .", "text/turtle")
    backend.write("/c/note.txt", b"hi", "text/markdown")
    backend.write("/c/sub/", b"<> a <#Box> .", CONTAINER_TYPE)
    listed = backend.children("/c/")
    assert [m.path for m in listed] == ["/c/big.bin", "/c/card", "/c/note.txt", "/c/sub/"]
    for meta in listed:
        assert meta == backend.stat(meta.path)
    assert listed[0].size == len(big)
    assert listed[1].content_type == "text/turtle"
    assert listed[2].content_type == "text/markdown"
    assert listed[3].content_type == CONTAINER_TYPE


def test_children_of_a_missing_container_raise_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.children("/missing/")


# -- names ------------------------------------------------------------------------------------

ENCODED_NAMES = [
    "my%20file.txt",
    "caf%C3%A9",
    "%E2%82%AC%20price",
    "a%2Fb",  # an encoded slash is part of the name, not a separator
    "100%25",
    "%25%32%46",  # a literal "%2F"
    "%F0%9F%98%80.png",
    "quote%22and%3Cangle%3E",
    "hash%23and%3Fquery",
    "sub-delims!$&'()*+,;=:@",
    ".hidden",
    "..dots",
    "%E2%80%8Bzero-width",
    "back%5Cslash",
]


@pytest.mark.parametrize("segment", ENCODED_NAMES)
def test_percent_encoded_names_round_trip(backend: Backend, segment: str) -> None:
    doc, container = f"/{segment}", f"/{segment}-dir/"
    backend.write(doc, segment.encode(), "text/plain")
    backend.write(container, b"", CONTAINER_TYPE)
    backend.write(f"{container}{segment}", b"inner", "text/plain")
    assert backend.read(doc).body == segment.encode()
    assert backend.stat(doc).path == doc
    assert [m.path for m in backend.children("/")] == sorted([doc, container])
    assert [m.path for m in backend.children(container)] == [f"{container}{segment}"]
    backend.delete(f"{container}{segment}")
    backend.delete(container)
    backend.delete(doc)
    assert backend.children("/") == []


def test_encoded_and_raw_spellings_are_different_resources(backend: Backend) -> None:
    backend.write("/a%2Fb", b"one name", "text/plain")
    backend.write("/a/", b"", CONTAINER_TYPE)
    backend.write("/a/b", b"nested", "text/plain")
    assert backend.read("/a%2Fb").body == b"one name"
    assert backend.read("/a/b").body == b"nested"
    assert [m.path for m in backend.children("/")] == ["/a%2Fb", "/a/"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=24))
def test_any_canonical_segment_round_trips(backend: Backend, raw: str) -> None:
    segment = canonical(raw)
    if segment in {".", ".."}:
        return
    path = f"/{segment}"
    backend.write(path, raw.encode(), "text/plain")
    try:
        assert backend.read(path).body == raw.encode()
        assert [m.path for m in backend.children("/")] == [path]
    finally:
        backend.delete(path)


# -- locks and concurrency --------------------------------------------------------------------


def test_lock_excludes_a_second_thread_until_released(backend: Backend) -> None:
    order: list[str] = []
    trying, acquired = threading.Event(), threading.Event()

    def second() -> None:
        trying.set()
        with backend.lock("/doc"):
            order.append("second acquired")
            acquired.set()

    with backend.lock("/doc"):
        thread = threading.Thread(target=second)
        thread.start()
        assert trying.wait(5)
        # The second thread must not get in while we hold the lock.
        assert not acquired.wait(0.3)
        order.append("first released")
    assert acquired.wait(5)
    thread.join(5)
    assert order == ["first released", "second acquired"]


def test_locks_of_different_paths_do_not_exclude_each_other(backend: Backend) -> None:
    acquired = threading.Event()

    def other() -> None:
        with backend.lock("/c/"), backend.lock("/c/other"):
            acquired.set()

    with backend.lock("/c/doc"):
        thread = threading.Thread(target=other)
        thread.start()
        assert acquired.wait(5)
    thread.join(5)


def test_lock_is_released_when_the_body_raises(backend: Backend) -> None:
    with pytest.raises(RuntimeError), backend.lock("/doc"):
        raise RuntimeError("boom")
    done = threading.Event()

    def again() -> None:
        with backend.lock("/doc"):
            done.set()

    thread = threading.Thread(target=again)
    thread.start()
    assert done.wait(5)
    thread.join(5)


def test_concurrent_writers_to_one_path_leave_one_complete_version(backend: Backend) -> None:
    writers, rounds = 4, 15
    bodies = {i: (f"writer {i} ".encode() * (200 * (i + 1))) for i in range(writers)}
    types = {i: f"application/x-writer-{i}" for i in range(writers)}
    backend.write("/doc", bodies[0], types[0])
    mixed: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(i: int) -> None:
        try:
            for _ in range(rounds):
                backend.write("/doc", bodies[i], types[i])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            while not stop.is_set():
                stored = backend.read("/doc")
                writer = int(stored.meta.content_type.rsplit("-", 1)[1])
                if stored.body != bodies[writer] or stored.meta.size != len(stored.body):
                    mixed.append(stored.meta.content_type)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    reader.join(60)
    assert errors == []
    assert mixed == []
    final = backend.read("/doc")
    writer = int(final.meta.content_type.rsplit("-", 1)[1])
    assert final.body == bodies[writer]
    assert [m.path for m in backend.children("/")] == ["/doc"]


def test_transaction_keeps_the_writes_made_inside_it(backend: Backend) -> None:
    with backend.transaction():
        backend.write("/c/", b"", CONTAINER_TYPE)
        backend.write("/c/doc", b"x", "text/plain")
    assert backend.read("/c/doc").body == b"x"
    assert [m.path for m in backend.children("/c/")] == ["/c/doc"]
