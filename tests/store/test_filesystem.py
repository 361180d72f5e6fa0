"""The filesystem backend beyond the shared contract: on-disk layout, names, confinement to the
root, crash safety, locks across processes, stray temp files, errors and listing cost."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pod_server.errors import BadRequest, Conflict, NotFound, StorageError, UriTooLong
from pod_server.store.backend import CONTAINER_TYPE
from pod_server.store.filesystem import (
    CONTAINER_SIDECAR,
    DOCUMENT_SIDECAR_SUFFIX,
    FilesystemBackend,
    default_type,
    name_to_segment,
    segment_to_name,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def fs(root: Path) -> Iterator[FilesystemBackend]:
    backend = FilesystemBackend(root)
    yield backend
    backend.close()


def run_python(source: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``source`` in a fresh interpreter with the repository importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


# -- layout -----------------------------------------------------------------------------------


def test_documents_are_plain_files_holding_their_bytes(fs: FilesystemBackend, root: Path) -> None:
    fs.write("/alice/", b"<> a <#Pod> .", CONTAINER_TYPE)
    fs.write("/alice/my%20file.txt", b"hello \x00 world", "text/plain")
    fs.write("/alice/caf%C3%A9.ttl", b"<> a <#Cafe> .", "text/turtle")
    assert (root / "storage" / "alice").is_dir()
    assert (root / "storage" / "alice" / "my file.txt").read_bytes() == b"hello \x00 world"
    assert (root / "storage" / "alice" / "café.ttl").read_bytes() == b"<> a <#Cafe> ."
    assert (root / "meta" / "alice" / CONTAINER_SIDECAR).read_bytes() == b"<> a <#Pod> ."


def test_a_sidecar_holds_the_type_only_when_the_extension_does_not_imply_it(
    fs: FilesystemBackend, root: Path
) -> None:
    fs.write("/card", b"<> a <#Me> .", "text/turtle")
    fs.write("/note.txt", b"hi", "text/plain")
    assert (root / "meta" / f"card{DOCUMENT_SIDECAR_SUFFIX}").read_text() == "text/turtle\n"
    assert not (root / "meta" / f"note.txt{DOCUMENT_SIDECAR_SUFFIX}").exists()
    fs.write("/note.txt", b"# hi", "text/markdown")
    assert (root / "meta" / f"note.txt{DOCUMENT_SIDECAR_SUFFIX}").read_text() == "text/markdown\n"
    fs.write("/note.txt", b"hi again", "text/plain")
    assert not (root / "meta" / f"note.txt{DOCUMENT_SIDECAR_SUFFIX}").exists()
    assert fs.stat("/note.txt").content_type == "text/plain"


def test_an_overwrite_with_the_same_type_leaves_the_sidecar_alone(fs: FilesystemBackend, root: Path) -> None:
    fs.write("/card", b"one", "text/turtle")
    sidecar = root / "meta" / f"card{DOCUMENT_SIDECAR_SUFFIX}"
    before = sidecar.stat()
    fs.write("/card", b"two", "text/turtle")
    after = sidecar.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_nothing_is_left_in_tmp_after_writes_and_deletes(fs: FilesystemBackend, root: Path) -> None:
    fs.write("/c/", b"x", CONTAINER_TYPE)
    fs.write("/c/a", b"1", "application/x-a")
    fs.write("/c/a", b"2", "application/x-b")
    fs.delete("/c/a")
    fs.delete("/c/")
    assert list((root / "tmp").iterdir()) == []
    assert list((root / "storage").iterdir()) == []


def test_files_dropped_in_by_an_operator_are_listed_with_a_type_from_their_extension(
    fs: FilesystemBackend, root: Path
) -> None:
    (root / "storage" / "photo.JPG").write_bytes(b"\xff\xd8")
    (root / "storage" / "notes").mkdir()
    (root / "storage" / "notes" / "a b.md").write_text("# a")
    assert [(m.path, m.content_type) for m in fs.children("/")] == [
        ("/notes/", CONTAINER_TYPE),
        ("/photo.JPG", "image/jpeg"),
    ]
    assert fs.read("/notes/a%20b.md").body == b"# a"
    assert fs.read("/notes/").body == b""


def test_entries_that_are_not_resources_are_not_listed(fs: FilesystemBackend, root: Path) -> None:
    storage = root / "storage"
    (storage / "ok").write_bytes(b"x")
    (storage / "bad%zz").write_bytes(b"x")  # a '%' that is not an escape
    (storage / "line\nbreak").write_bytes(b"x")  # a control character
    (storage / "%20").write_bytes(b"x")  # would be shown decoded: no segment maps here
    os.mkfifo(storage / "fifo")
    os.symlink(storage / "ok", storage / "link")
    (storage / "zz").write_bytes(b"x")
    assert [m.path for m in fs.children("/")] == ["/ok", "/zz"]
    pages, after = [], None
    while page := fs.children("/", after=after, limit=1):
        pages.append(page[0].path)
        after = page[0].path
    assert pages == ["/ok", "/zz"]


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "name"),
    [
        ("plain.ttl", "plain.ttl"),
        ("my%20file.txt", "my file.txt"),
        ("caf%C3%A9", "café"),
        ("%F0%9F%98%80", "😀"),
        ("%22q%22%3C%3E%5C%5E%60%7B%7C%7D%23%3F%5B%5D", '"q"<>\\^`{|}#?[]'),
        ("a%2Fb", "a%2Fb"),  # a slash stays encoded
        ("100%25", "100%25"),  # so does a percent sign
        ("%2E", "%2E"),  # and '.' (never a dot-segment on disk)
        ("%2E%2E", "%2E%2E"),
        ("%21", "%21"),  # characters a URL may carry raw stay encoded: '!' and '%21' differ
        ("%41", "%41"),
        ("%c3%a9", "%c3%a9"),  # lower-case escapes are kept as they are
        ("%C3", "%C3"),  # not UTF-8
        ("%FF%FE", "%FF%FE"),
        ("%C0%AF", "%C0%AF"),  # an overlong '/'
        ("%00", "%00"),  # control and invisible characters
        ("%7F", "%7F"),
        ("%C2%A0", "%C2%A0"),
        ("%E2%80%8B", "%E2%80%8B"),
        ("%E2%80%AE", "%E2%80%AE"),  # right-to-left override
        ("x%E2%82%ACy%2Fz%25", "x€y%2Fz%25"),
    ],
)
def test_segments_map_to_readable_names_and_back(segment: str, name: str) -> None:
    assert segment_to_name(segment) == name
    assert name_to_segment(name) == segment


@pytest.mark.parametrize("segment", [".", "..", "a b", "café", "a%", "a%2", "%G0", "a\\b", "a\x00", "a\n"])
def test_segments_that_are_not_canonical_are_refused(fs: FilesystemBackend, segment: str) -> None:
    with pytest.raises(BadRequest):
        segment_to_name(segment)
    with pytest.raises(BadRequest):
        fs.write(f"/{segment}", b"", "text/plain")
    with pytest.raises(BadRequest):
        fs.write(f"/{segment}/", b"", CONTAINER_TYPE)
    assert fs.children("/") == []


@pytest.mark.parametrize("segment", ["", "a/b"])
def test_a_segment_is_never_empty_nor_holds_a_slash(segment: str) -> None:
    with pytest.raises(BadRequest):
        segment_to_name(segment)


@pytest.mark.parametrize("path", ["relative", "//", "/a//b", "/a//"])
def test_malformed_paths_are_refused(fs: FilesystemBackend, path: str) -> None:
    with pytest.raises(BadRequest):
        fs.stat(path)
    with pytest.raises(BadRequest), fs.lock(path):
        pass


_HEXDIGITS = "0123456789ABCDEFabcdef"
_segment_parts = st.one_of(
    st.sampled_from(list("AZaz09-._~!$&'()*+,;=:@")),
    st.builds(lambda a, b: f"%{a}{b}", st.sampled_from(_HEXDIGITS), st.sampled_from(_HEXDIGITS)),
    st.text(min_size=1, max_size=1).map(
        lambda c: "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
    ),
)


@given(parts=st.lists(_segment_parts, min_size=1, max_size=12))
def test_any_segment_maps_to_a_name_that_maps_back(parts: list[str]) -> None:
    segment = "".join(parts)
    if segment in {".", ".."}:
        return
    name = segment_to_name(segment)
    assert name_to_segment(name) == segment
    assert "/" not in name and "\x00" not in name and name not in {".", ".."}
    assert "%m" not in name and "%s" not in name  # so sidecar names cannot collide


@given(name=st.text(min_size=1, max_size=16))
def test_any_file_name_maps_to_at_most_one_segment(name: str) -> None:
    segment = name_to_segment(name)
    if segment is not None:
        assert segment_to_name(segment) == name


def test_names_that_look_like_sidecars_do_not_collide(fs: FilesystemBackend) -> None:
    names = ["x", "x%25meta", "%25meta", "%25self.ttl", "self.ttl", ".m", "x.m", "meta"]
    for n in names:
        fs.write(f"/{n}", f"doc {n}".encode(), f"application/x-{len(n)}")
        fs.write(f"/{n}-c/", f"container {n}".encode(), CONTAINER_TYPE)
    fs.write("/x%25meta-c/x", b"inner", "application/x-inner")
    for n in names:
        stored = fs.read(f"/{n}")
        assert (stored.body, stored.meta.content_type) == (f"doc {n}".encode(), f"application/x-{len(n)}")
        assert fs.read(f"/{n}-c/").body == f"container {n}".encode()
    assert len(fs.children("/")) == 2 * len(names)


def test_a_segment_too_long_for_the_filesystem_is_refused(fs: FilesystemBackend) -> None:
    with pytest.raises(UriTooLong):
        fs.write("/" + "a" * 300, b"", "text/plain")
    fs.write("/" + "a" * 250, b"fits", "text/plain")
    assert fs.read("/" + "a" * 250).body == b"fits"


def test_default_types_come_from_a_fixed_table() -> None:
    assert default_type("card") == "application/octet-stream"
    assert default_type("a.ttl") == "text/turtle"
    assert default_type("A.TTL") == "text/turtle"
    assert default_type(".acl") == "application/octet-stream"  # a dot-file has no extension
    assert default_type("x.acl") == "text/turtle"
    assert default_type("x.unknown") == "application/octet-stream"


# -- confinement ------------------------------------------------------------------------------


def test_no_path_escapes_the_storage_directory(fs: FilesystemBackend, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    os.symlink(outside, root / "storage" / "evil")
    os.symlink(outside / "secret", root / "storage" / "leak")
    with pytest.raises(NotFound):
        fs.read("/evil/secret")
    with pytest.raises(NotFound):
        fs.read("/leak")
    with pytest.raises(NotFound):
        fs.stat("/evil/")
    with pytest.raises(NotFound):
        fs.children("/evil/")
    with pytest.raises(NotFound):
        fs.write("/evil/planted", b"x", "text/plain")
    with pytest.raises(NotFound):
        fs.delete("/evil/secret")
    fs.write("/..%2F..%2Fetc%2Fpasswd", b"stays inside", "text/plain")
    fs.write("/%2E%2E", b"stays inside", "text/plain")
    fs.write("/%2E/", b"", CONTAINER_TYPE)
    fs.write("/%2E/%2E%2E", b"stays inside", "text/plain")
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"
    assert fs.read("/..%2F..%2Fetc%2Fpasswd").body == b"stays inside"
    assert (root / "storage" / "..%2F..%2Fetc%2Fpasswd").is_file()
    assert (root / "storage" / "%2E" / "%2E%2E").is_file()
    assert [m.path for m in fs.children("/")] == ["/%2E%2E", "/%2E/", "/..%2F..%2Fetc%2Fpasswd"]


# -- locks ------------------------------------------------------------------------------------


def test_two_backends_on_one_root_exclude_each_other(root: Path) -> None:
    first, second = FilesystemBackend(root), FilesystemBackend(root)
    acquired = threading.Event()

    def take() -> None:
        with second.lock("/doc"):
            acquired.set()

    with first.lock("/doc"):
        thread = threading.Thread(target=take)
        thread.start()
        assert not acquired.wait(0.3)  # flock on separate open files excludes within one process
    assert acquired.wait(5)
    thread.join(5)


def test_two_threads_on_one_backend_exclude_each_other_many_times(fs: FilesystemBackend) -> None:
    inside = 0
    overlaps: list[int] = []

    def work() -> None:
        nonlocal inside
        for _ in range(200):
            with fs.lock("/doc"):
                inside += 1
                if inside != 1:
                    overlaps.append(inside)
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert overlaps == []


@pytest.mark.slow
def test_a_lock_held_by_another_process_excludes_this_one(fs: FilesystemBackend, root: Path) -> None:
    source = """
        import sys
        from pathlib import Path
        from pod_server.store.filesystem import FilesystemBackend
        b = FilesystemBackend(Path(sys.argv[1]))
        with b.lock("/doc"):
            print("locked", flush=True)
            sys.stdin.readline()
    """
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(source), str(root)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        try:
            assert child.stdout.readline() == "locked\n"
            acquired = threading.Event()

            def take() -> None:
                with fs.lock("/doc"):
                    acquired.set()

            thread = threading.Thread(target=take)
            thread.start()
            assert not acquired.wait(0.3)
            child.stdin.write("release\n")
            child.stdin.flush()
            assert acquired.wait(10)
            thread.join(10)
        finally:
            child.kill()


@pytest.mark.slow
def test_two_processes_incrementing_under_the_lock_lose_no_update(fs: FilesystemBackend, root: Path) -> None:
    fs.write("/counter", b"0", "text/plain")
    source = """
        import sys
        from pathlib import Path
        from pod_server.store.filesystem import FilesystemBackend
        b = FilesystemBackend(Path(sys.argv[1]))
        for _ in range(int(sys.argv[2])):
            with b.lock("/counter"):
                value = int(b.read("/counter").body)
                b.write("/counter", str(value + 1).encode(), "text/plain")
    """
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(source), str(root), "60"], env=env)
        for _ in range(3)
    ]
    for p in procs:
        assert p.wait(120) == 0
    assert fs.read("/counter").body == b"180"


@pytest.mark.slow
def test_a_reader_in_another_process_never_sees_a_mixed_version(fs: FilesystemBackend, root: Path) -> None:
    versions = {"application/x-a": b"A" * 5000, "application/x-b": b"B" * 7}
    fs.write("/doc", versions["application/x-a"], "application/x-a")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys
                from pathlib import Path
                from pod_server.store.filesystem import FilesystemBackend
                b = FilesystemBackend(Path(sys.argv[1]))
                for i in range(300):
                    if i % 2:
                        b.write("/doc", b"A" * 5000, "application/x-a")
                    else:
                        b.write("/doc", b"B" * 7, "application/x-b")
                """
            ),
            str(root),
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    reads, mixed = 0, list[tuple[str, str, object]]()
    while writer.poll() is None or reads == 0:
        stored = fs.read("/doc")
        meta = fs.stat("/doc")
        listed = fs.children("/")[0]
        reads += 1
        if versions.get(stored.meta.content_type) != stored.body:
            mixed.append(("read", stored.meta.content_type, stored.body[:10]))
        for m in (meta, listed):
            if len(versions[m.content_type]) != m.size:
                mixed.append(("meta", m.content_type, m.size))
    assert writer.wait(60) == 0
    assert mixed == []
    assert reads > 10


# -- crash safety -----------------------------------------------------------------------------

_CRASHING_WRITER = """
    import os, signal, sys
    from pathlib import Path
    from pod_server.store.backend import CONTAINER_TYPE
    from pod_server.store.filesystem import FilesystemBackend

    root, crash_at, op = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    backend = FilesystemBackend(root)
    steps = 0

    def crashing(real):
        def step(*args, **kwargs):
            global steps
            steps += 1
            if steps == crash_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return step

    # Every call that changes the disk is a point where the process may die.
    for name in ("write", "fsync", "utime", "replace", "rename", "unlink", "mkdir", "rmdir"):
        setattr(os, name, crashing(getattr(os, name)))

    if op == "delete":
        backend.delete(sys.argv[4])
    else:
        backend.write(sys.argv[4], sys.argv[5].encode(), sys.argv[6])
    print("completed", steps)
"""

Version = tuple[str, str] | None  # (body, media type), or None for "absent"
OLD, NEW = ("old body", "application/x-old"), ("new body!", "application/x-new")
CRASH_CASES: dict[str, tuple[list[tuple[str, str, str]], str, str, list[Version]]] = {
    # name: (setup writes, operation, path, versions a crash may leave (None = absent))
    "create document": ([], "write", "/c/doc", [None, NEW]),
    "create document, implied type": ([], "write", "/c/doc.ttl", [None, ("new body", "text/turtle")]),
    "overwrite, same type": ([("/c/doc", *OLD)], "write", "/c/doc", [OLD, ("new", OLD[1])]),
    "overwrite, new type": ([("/c/doc", *OLD)], "write", "/c/doc", [OLD, NEW]),
    "overwrite, back to the implied type": (
        [("/c/doc.ttl", *OLD)],
        "write",
        "/c/doc.ttl",
        [OLD, ("new body", "text/turtle")],
    ),
    "delete document": ([("/c/doc", *OLD)], "delete", "/c/doc", [OLD, None]),
    "create container": ([], "write", "/c/sub/", [None, ("new", CONTAINER_TYPE)]),
    "replace container body": (
        [("/c/sub/", "old", CONTAINER_TYPE)],
        "write",
        "/c/sub/",
        [("old", CONTAINER_TYPE), ("new", CONTAINER_TYPE)],
    ),
    "delete container": (
        [("/c/sub/", "old", CONTAINER_TYPE)],
        "delete",
        "/c/sub/",
        [("old", CONTAINER_TYPE), None],
    ),
}


def _observe(backend: FilesystemBackend, path: str) -> Version:
    try:
        stored = backend.read(path)
    except NotFound:
        listed = [m.path for m in backend.children("/c/")]
        assert path not in listed
        return None
    assert backend.stat(path) == stored.meta
    assert [m for m in backend.children("/c/") if m.path == path] == [stored.meta]
    return stored.body.decode(), stored.meta.content_type


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CRASH_CASES))
def test_a_crash_at_any_step_leaves_the_old_or_the_new_version(tmp_path: Path, case: str) -> None:
    setup, op, path, allowed = CRASH_CASES[case]
    new_body, new_type = allowed[-1] if allowed[-1] is not None else ("", "")
    seen: set[Version] = set()
    crash_at = 1
    while True:
        root = tmp_path / f"crash-{crash_at}"
        backend = FilesystemBackend(root)
        backend.write("/c/", b"", CONTAINER_TYPE)
        for p, body, ctype in setup:
            backend.write(p, body.encode(), ctype)
        backend.close()
        args = [str(root), str(crash_at), op, path] + ([new_body, new_type] if op == "write" else [])
        result = run_python(_CRASHING_WRITER, *args, check=False)
        completed = result.returncode == 0
        assert completed or result.returncode == -9, result.stderr

        for temp in (root / "tmp").iterdir():  # what a crash left: old enough to be swept now
            os.utime(temp, ns=(0, 0))
        reopened = FilesystemBackend(root)
        state = _observe(reopened, path)
        assert state in allowed, f"crash at step {crash_at}: {state}"
        seen.add(state)
        assert list((root / "tmp").iterdir()) == []
        # The store stays usable: the path can be written again with either kind of type.
        if not path.endswith("/"):
            reopened.write(path, b"after", "application/x-after")
            assert reopened.stat(path).content_type == "application/x-after"
            reopened.write(path, b"after", default_type(path.rsplit("/", 1)[1]))
            assert reopened.stat(path).content_type == default_type(path.rsplit("/", 1)[1])
        reopened.close()
        if completed:
            break
        crash_at += 1
    assert crash_at > 3  # the operation really had several steps
    assert seen == set(allowed)  # both outcomes were observed, so the crashes hit both sides


def test_open_removes_stale_temp_files_but_not_live_ones(root: Path) -> None:
    FilesystemBackend(root).close()
    tmp = root / "tmp"
    stale, young, held = tmp / "1-1-dead.tmp", tmp / "1-2-young.tmp", tmp / "1-3-held.tmp"
    for f in (stale, young, held):
        f.write_bytes(b"partial")
    os.utime(stale, ns=(0, 0))
    os.utime(held, ns=(0, 0))
    import fcntl

    fd = os.open(held, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer still working on it
        FilesystemBackend(root).close()
        assert sorted(p.name for p in tmp.iterdir()) == sorted([young.name, held.name])
    finally:
        os.close(fd)


# -- errors -----------------------------------------------------------------------------------


def test_os_errors_become_storage_errors_without_host_paths(fs: FilesystemBackend, root: Path) -> None:
    tmp = root / "tmp"
    tmp.rmdir()
    tmp.write_bytes(b"not a directory")  # every write now fails in the OS
    with pytest.raises(StorageError) as caught:
        fs.write("/doc", b"x", "text/plain")
    assert str(root) not in caught.value.detail
    assert "storage" in caught.value.detail


def test_a_twin_made_behind_the_backend_still_conflicts(fs: FilesystemBackend, root: Path) -> None:
    (root / "storage" / "x").mkdir()
    with pytest.raises(Conflict):
        fs.write("/x", b"doc", "text/plain")
    (root / "storage" / "y").write_bytes(b"doc")
    with pytest.raises(Conflict):
        fs.write("/y/", b"", CONTAINER_TYPE)


# -- listing ----------------------------------------------------------------------------------


def test_listing_never_opens_a_body(
    fs: FilesystemBackend, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs.write("/c/", b"", CONTAINER_TYPE)
    fs.write("/c/a.txt", b"a" * 10_000, "text/plain")
    fs.write("/c/b", b"b", "application/x-b")
    fs.write("/c/d/", b"<> a <#D> .", CONTAINER_TYPE)
    cold = FilesystemBackend(root)  # nothing remembered: it must read the sidecars
    opened: list[str] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        base = os.readlink(f"/proc/self/fd/{dir_fd}") if dir_fd is not None else ""
        opened.append(os.path.join(base, os.fspath(path)))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", spy)
    listed = cold.children("/c/")
    monkeypatch.undo()
    assert [(m.path, m.content_type, m.size) for m in listed] == [
        ("/c/a.txt", "text/plain", 10_000),
        ("/c/b", "application/x-b", 1),
        ("/c/d/", CONTAINER_TYPE, len(b"<> a <#D> .")),
    ]
    assert any(p.endswith(f"b{DOCUMENT_SIDECAR_SUFFIX}") for p in opened)  # the spy works
    storage = str(root / "storage")
    assert [p for p in opened if p.startswith(storage) and os.path.isfile(p)] == []


@pytest.mark.parametrize("with_sidecars", [False, True])
def test_a_container_of_ten_thousand_children_lists_and_pages(
    fs: FilesystemBackend, root: Path, with_sidecars: bool
) -> None:
    fs.write("/big/", b"", CONTAINER_TYPE)
    directory, meta = root / "storage" / "big", root / "meta" / "big"
    for i in range(10_000):
        (directory / f"item {i:05d}.ttl").write_bytes(b"<> a <#Item> .")
        if with_sidecars:
            (meta / f"item {i:05d}.ttl{DOCUMENT_SIDECAR_SUFFIX}").write_bytes(b"text/n3\n")
    started = time.perf_counter()
    listed = fs.children("/big/")
    elapsed = time.perf_counter() - started
    assert len(listed) == 10_000
    assert [m.path for m in listed] == sorted(f"/big/item%20{i:05d}.ttl" for i in range(10_000))
    assert {m.content_type for m in listed} == {"text/n3" if with_sidecars else "text/turtle"}
    assert elapsed < 2.0  # ~50-100 ms on the development machine; generous for loaded CI
    page = fs.children("/big/", after="/big/item%2009989.ttl", limit=5)
    assert [m.path for m in page] == [f"/big/item%20{i:05d}.ttl" for i in range(9990, 9995)]
