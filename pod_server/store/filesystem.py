"""The filesystem backend: resources as plain files an operator can read, back up and restore.

Layout under the root directory::

    storage/             the resources, mirroring the URL paths: a container is a directory,
                         a document is a file holding exactly its bytes
    meta/                what a file cannot carry, mirroring storage/:
      <dir>/%self.ttl    the container <dir>/'s own body (Turtle; empty file for an empty body)
      <dir>/<name>%meta  the media type of the document <dir>/<name>, only when the name's
                         extension does not imply it (see ``DEFAULT_TYPES``)
    tmp/                 temporary files of writes in progress (same filesystem, never listed)
    locks/xx/<sha256>    lock files of :meth:`FilesystemBackend.lock` and of the writer lock

**File names.** Paths arrive in canonical URL form (``/alice/my%20file.txt``, see
``pod_server.ldp.identifiers``). Each segment becomes a file name by decoding the percent-escapes
of printable characters that a URL must encode (space, ``"``, non-ASCII...), so an operator sees
``my file.txt``. Everything else stays encoded, as the same three characters: ``%2F`` (a slash in
a name), ``%25`` (a literal percent sign), escapes of control and invisible characters, of bytes
that are not UTF-8, of characters a URL may carry raw (``%21`` next to ``!``), and lower-case
escapes. So a ``%`` in a file name always starts ``%`` + two hex digits, decoding is exact
(:func:`name_to_segment` inverts :func:`segment_to_name`), and ``.``/``..``/empty segments are
refused (the store never sends them). On a case-insensitive filesystem ``%2f`` and ``%2F`` would
collide; use a case-sensitive one (ext4, XFS, btrfs).

**Sidecar names cannot collide.** Every name in meta/ that is not a directory contains ``%m`` or
``%s``, which no encoded name contains (a ``%`` in an encoded name is followed by a hex digit).
So ``<name>%meta`` (a document's sidecar) is never a resource name, never a container's meta
directory ``<name>``, and never ``%self.ttl`` (names are not empty). Dot-files are ordinary:
``/a/.acl`` has the sidecar ``meta/a/.acl%meta`` and ``/a/.acl/`` the directory ``meta/a/.acl/``.

**Atomic, crash-safe writes, without a journal.** A body is written to tmp/, fsynced and renamed
into place (the commit point), then the directory is fsynced. A document's media type lives in
its sidecar, a second file, so it cannot change in the same rename. Instead the sidecar is made
right for *both* versions before the commit: ``<new type>`` on its first line, then
``<inode-hex> <old type>``, which pins the old type to the old body's inode (the new body has
another inode: both exist at the commit). A body's type is the type on the line naming its inode,
else the first line, else (no sidecar) the default for its extension. After the commit the pin
line is dropped (so a recycled inode number cannot match it later; a crash before that is
harmless). A crash at any point therefore leaves the old body with the old type or the new body
with the new type, with nothing to roll forward or back on open; and a live reader, in any
process, never sees a new body with an old type, which a redo journal (body first, sidecar after)
would allow between its two steps. Readers stat the body before and after reading the sidecar
and retry if it changed. The sidecar is rewritten only when it must change, so overwriting a
document with the same media type costs one temp file, two fsyncs (file, directory) and one
rename. Deleting unlinks the body first (the commit), then the sidecar; an orphaned sidecar is
harmless and is corrected by the next write of that name. Writes of one path (and of its
document/container twin) are serialised by a writer lock of their own, distinct from
:meth:`FilesystemBackend.lock`, so callers may hold ``lock(path)`` while writing. Opening the
backend removes temp files left by crashed writers: those older than a minute whose ``flock``
(held by every live writer on its temp file) can be taken. Back up with the server stopped, or
accept that a copy taken mid-write may pair a body with the other version's type.

**ETags.** A document's ETag is ``<inode>-<mtime ns>-<size>`` from one ``lstat``. Every write
renames in a new inode and sets the mtime explicitly to ``max(now, previous mtime + 1 ns)``:
kernels before Linux 6.13 (and some filesystems still) stamp files from a clock that ticks every
few milliseconds, and ext4 hands the same two inodes back and forth to a file rewritten this
way, so without it a third write within one tick would repeat the first write's ETag. A
container's ETag combines its directory's inode and mtime with its ``%self.ttl``'s inode, mtime
and size. Renaming a child in or unlinking one may set the directory's mtime only to the coarse
clock, so every write or delete of a child then sets it to ``max(now, current + 1 ns)``.
Caveat: between the rename and that update (microseconds) a concurrent ``stat`` can see a coarse
mtime that it may already have seen after an earlier write within the same tick; the ETag seen
after the write returns is always new. A file edited in place behind the server's back changes
its ETag (mtime) but keeps its type.

**Listing** reads directory entries and ``lstat`` s; it never opens a body. A document's type
comes from its extension or its sidecar (one ``scandir`` of the meta directory tells which
exist) and is then remembered per body version (path, inode, mtime, ctime, size), which every
write changes, so listing the same container again reads no sidecar. A sidecar edited by hand is
noticed when its body's ctime changes (``touch`` it). Entries that are not resources (symbolic
links, devices, names that are not encoded names) are skipped, never followed: every directory
on a path is checked with ``lstat`` to be a real directory, so no path escapes ``storage/``.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import io
import itertools
import os
import re
import secrets
import stat as st_mode
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from pod_server.errors import BadRequest, Conflict, NotFound, PodError, StorageError, UriTooLong
from pod_server.store.backend import CONTAINER_TYPE, Meta, Stored

# RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
_PCHAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@")
_PLAIN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]+")
_HEX = frozenset("0123456789ABCDEFabcdef")
_UPPER_HEX = frozenset("0123456789ABCDEF")

DOCUMENT_SIDECAR_SUFFIX = "%meta"
CONTAINER_SIDECAR = "%self.ttl"
MAX_NAME_BYTES = 255 - len(DOCUMENT_SIDECAR_SUFFIX)
"""Longest file name (UTF-8 bytes) a segment may map to: NAME_MAX minus the sidecar suffix."""

OCTET_STREAM = "application/octet-stream"
DEFAULT_TYPES: dict[str, str] = {
    "acl": "text/turtle",  # Solid Protocol §4.3: auxiliary resources, RDF, Turtle by convention
    "meta": "text/turtle",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "nq": "application/n-quads",
    "n3": "text/n3",
    "trig": "application/trig",
    "rdf": "application/rdf+xml",
    "json": "application/json",
    "html": "text/html",
    "txt": "text/plain",
    "md": "text/markdown",
    "css": "text/css",
    "js": "text/javascript",
    "csv": "text/csv",
    "xml": "application/xml",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "zip": "application/zip",
}
"""The media type a document has when it has no sidecar, by lower-cased extension, else
``application/octet-stream``. Part of the on-disk format: changing or adding an entry changes
the type of stored files without a sidecar, so it needs a migration."""

STALE_TEMP_NS = 60 * 1_000_000_000
"""Temp files younger than this are never swept, even when unlocked (a writer may be starting)."""

TYPE_CACHE_SIZE = 65536
"""How many (document version -> media type) pairs a backend remembers (see ``_remember``)."""

_RETRIES = 8

_SAFE_MESSAGES: dict[int, str] = {
    errno.ENOSPC: "the storage is full; free some space, then retry",
    errno.EDQUOT: "the storage quota is exhausted; free some space, then retry",
    errno.EROFS: "the storage is mounted read-only",
    errno.EACCES: "the server may not access its storage directory; check its owner and permissions",
    errno.EPERM: "the server may not access its storage directory; check its owner and permissions",
    errno.EIO: "the storage device reported an I/O error",
    errno.EMFILE: "the server has too many open files; retry later",
    errno.ENFILE: "the system has too many open files; retry later",
    errno.EXDEV: "the storage's tmp/ and storage/ directories must be on one filesystem",
}


def _translate(exc: OSError) -> PodError:
    """An OS error as one of ours, with a message that names no host path."""
    if exc.errno == errno.ENAMETOOLONG:
        return UriTooLong("the path is too long for the filesystem storage; use shorter names")
    message = _SAFE_MESSAGES.get(exc.errno or 0)
    if message is None:
        message = f"the filesystem storage failed ({errno.errorcode.get(exc.errno or 0, 'unknown error')})"
    return StorageError(message)


# -- names -------------------------------------------------------------------------------------


def _decodable(ch: str) -> bool:
    """Whether a character that arrived percent-encoded is shown decoded in a file name."""
    return ch not in _PCHAR and ch != "/" and ch != "%" and ch.isprintable()


def _utf8_width(lead: int) -> int:
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _decode_run(run: list[str]) -> str:
    """Decode a run of ``%XX`` escapes where the result is a decodable character; keep the rest."""
    out: list[str] = []
    j = 0
    while j < len(run):
        width = _utf8_width(int(run[j][1:], 16))
        chunk = run[j : j + width]
        if width and len(chunk) == width and all(e[1] in _UPPER_HEX and e[2] in _UPPER_HEX for e in chunk):
            try:
                ch = bytes(int(e[1:], 16) for e in chunk).decode("utf-8")
            except UnicodeDecodeError:
                ch = ""
            if ch and _decodable(ch):
                out.append(ch)
                j += width
                continue
        out.append(run[j])
        j += 1
    return "".join(out)


def _twin_conflict(path: str) -> Conflict:
    twin = path[:-1] if path.endswith("/") else path + "/"
    return Conflict(f"{twin} exists; a document and a container cannot share a name")


def _invalid_segment() -> BadRequest:
    return BadRequest("the path has a segment that is not in canonical percent-encoded form")


@functools.lru_cache(maxsize=16384)
def segment_to_name(segment: str) -> str:
    """The file name of one canonical URL-path segment: ``my%20file.txt`` -> ``my file.txt``."""
    if _PLAIN.fullmatch(segment):
        if segment in {".", ".."}:
            raise BadRequest("the path has a '.' or '..' segment")
        return segment
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        if c != "%":
            if c not in _PCHAR:
                raise _invalid_segment()
            out.append(c)
            i += 1
            continue
        run: list[str] = []
        while i < n and segment[i] == "%":
            esc = segment[i : i + 3]
            if len(esc) < 3 or esc[1] not in _HEX or esc[2] not in _HEX:
                raise _invalid_segment()
            run.append(esc)
            i += 3
        out.append(_decode_run(run))
    name = "".join(out)
    if not name:
        raise BadRequest("the path has an empty segment")
    return name


def name_to_segment(name: str) -> str | None:
    """The URL-path segment of a file name, or ``None`` if no segment maps to that name."""
    if _PLAIN.fullmatch(name):
        return None if name in {".", ".."} else name
    out: list[str] = []
    i, n = 0, len(name)
    while i < n:
        c = name[i]
        if c == "%":
            esc = name[i : i + 3]
            if len(esc) < 3 or esc[1] not in _HEX or esc[2] not in _HEX:
                return None
            out.append(esc)
            i += 3
        elif c in _PCHAR:
            out.append(c)
            i += 1
        elif _decodable(c):  # lone surrogates (undecodable bytes) are not printable
            out.append("".join(f"%{b:02X}" for b in c.encode("utf-8")))
            i += 1
        else:
            return None
    segment = "".join(out)
    try:
        return segment if segment_to_name(segment) == name else None
    except BadRequest:
        return None


def default_type(segment: str) -> str:
    """The media type a document named ``segment`` has without a sidecar."""
    stem, dot, ext = segment.rpartition(".")
    return DEFAULT_TYPES.get(ext.lower(), OCTET_STREAM) if dot and stem else OCTET_STREAM


def effective_type(sidecar: bytes | None, inode: int, segment: str) -> str:
    """A document's media type from its sidecar (see the module docstring) and its body's inode."""
    if sidecar is None:
        return default_type(segment)
    if sidecar.count(b"\n") <= 1:  # no pinned line: the common case
        return sidecar.rstrip(b"\r\n").decode("utf-8", "replace") or default_type(segment)
    lines = sidecar.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0]:
        return default_type(segment)
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        if value and key == f"{inode:x}":
            return value
    return lines[0]


def _sidecar_for(segment: str, new_type: str, current: tuple[int, str] | None) -> bytes | None:
    """The sidecar that is right for both the current body (inode, type) and the new one."""
    if current is None or current[1] == new_type:
        return None if new_type == default_type(segment) else f"{new_type}\n".encode()
    return f"{new_type}\n{current[0]:x} {current[1]}\n".encode()


# -- small file helpers ------------------------------------------------------------------------


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _first(row: tuple[str, str, str, os.stat_result]) -> str:
    return row[0]


def _lstat_at(path: str, dir_fd: int) -> os.stat_result | None:
    try:
        return os.lstat(path, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _read_small(path: str, dir_fd: int | None = None) -> bytes | None:
    """A whole small file (a sidecar), or None if it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        chunk = os.read(fd, 65536)
        if len(chunk) < 65536:
            return chunk
        with io.FileIO(fd, closefd=False) as f:
            return chunk + f.readall()
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)


def _version(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size


def _document_meta(path: str, content_type: str, st: os.stat_result) -> Meta:
    return Meta(
        path,
        content_type,
        st.st_size,
        st.st_mtime_ns / 1e9,
        f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}",
    )


def _container_meta(path: str, directory: os.stat_result, body: os.stat_result | None) -> Meta:
    etag = f"{directory.st_ino:x}-{directory.st_mtime_ns:x}"
    if body is None:
        return Meta(path, CONTAINER_TYPE, 0, directory.st_mtime_ns / 1e9, etag)
    mtime = max(directory.st_mtime_ns, body.st_mtime_ns)
    etag += f"-{body.st_ino:x}-{body.st_mtime_ns:x}-{body.st_size:x}"
    return Meta(path, CONTAINER_TYPE, body.st_size, mtime / 1e9, etag)


@dataclass(frozen=True, slots=True)
class _Location:
    """Where one path lives on disk."""

    path: str
    segments: tuple[str, ...]
    names: tuple[str, ...]
    file: str  # the document file or the container directory under storage/
    parent_dir: str | None  # the parent container's directory; None for the root
    meta_dir: str  # the directory under meta/ holding the sidecar
    sidecar: str

    @property
    def is_container(self) -> bool:
        return self.path.endswith("/")


class _Ref:
    """A thread lock shared by the callers waiting on one key, dropped when the last leaves."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0


class FilesystemBackend:
    """Stores resources under ``root`` (see the module docstring for the layout and guarantees)."""

    def __init__(self, root: Path) -> None:
        base = os.path.realpath(root)
        self._storage = os.path.join(base, "storage")
        self._meta = os.path.join(base, "meta")
        self._tmp = os.path.join(base, "tmp")
        self._locks = os.path.join(base, "locks")
        self._guard = threading.Lock()
        self._thread_locks: dict[tuple[str, str], _Ref] = {}
        self._seq = itertools.count()
        self._types: dict[tuple[str, int, int, int, int], str] = {}
        try:
            for d in (self._storage, self._meta, self._tmp, self._locks):
                os.makedirs(d, exist_ok=True)
            self._sweep_temp_files()
        except OSError as exc:
            raise _translate(exc) from exc

    # -- locations -----------------------------------------------------------------------------
    def _locate(self, path: str) -> _Location:
        if not path.startswith("/"):
            raise BadRequest("a storage path must start with '/'")
        inner = path[1:-1] if path.endswith("/") else path[1:]
        segments = tuple(inner.split("/")) if inner else ()
        if not segments and path != "/":
            raise BadRequest("the path has an empty segment")
        names = tuple(segment_to_name(s) for s in segments)
        for name in names:
            if len(name.encode("utf-8")) > MAX_NAME_BYTES:
                raise UriTooLong(
                    f"a path segment is longer than {MAX_NAME_BYTES} bytes once decoded; shorten it"
                )
        rel = "".join("/" + n for n in names)
        file = self._storage + rel
        parent_dir = None if not names else self._storage + "".join("/" + n for n in names[:-1])
        if path.endswith("/"):
            meta_dir = self._meta + rel
            sidecar = meta_dir + "/" + CONTAINER_SIDECAR
        else:
            meta_dir = self._meta + "".join("/" + n for n in names[:-1])
            sidecar = meta_dir + "/" + names[-1] + DOCUMENT_SIDECAR_SUFFIX
        return _Location(path, segments, names, file, parent_dir, meta_dir, sidecar)

    def _require_parents(self, loc: _Location) -> None:
        """Every container above ``loc`` must be a real directory (no symlinks): else NotFound."""
        current = self._storage
        for k, name in enumerate(loc.names[:-1]):
            current += "/" + name
            st = _lstat(current)
            if st is None or not st_mode.S_ISDIR(st.st_mode):
                container = "/" + "".join(s + "/" for s in loc.segments[: k + 1])
                raise NotFound(f"the container {container} does not exist")

    # -- media types of document versions -------------------------------------------------------
    # A body file, once committed, keeps its media type until it is replaced or deleted: a writer
    # changes the sidecar only in ways that leave the current body's type as it is (module
    # docstring). So the type can be remembered by the body's version, (path, inode, mtime, ctime,
    # size), which every write changes; a remembered type then saves reading the sidecar.
    # Remember only types read consistently with that version. A sidecar edited by hand is seen
    # once its body changes (``touch`` the body).
    def _known_type(self, path: str, st: os.stat_result) -> str | None:
        return self._types.get((path, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size))

    def _remember(self, path: str, st: os.stat_result, content_type: str) -> None:
        if len(self._types) >= TYPE_CACHE_SIZE:
            self._types.clear()
        self._types[(path, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)] = content_type

    # -- locks ---------------------------------------------------------------------------------
    @contextmanager
    def _exclusive(self, kind: str, key: str) -> Iterator[None]:
        """Held across threads (a thread lock) and processes (``flock`` on a lock file)."""
        with self._guard:
            ref = self._thread_locks.get((kind, key))
            if ref is None:
                ref = self._thread_locks[(kind, key)] = _Ref()
            ref.users += 1
        try:
            with ref.lock:
                digest = sha256(f"{kind}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()
                lock_file = f"{self._locks}/{digest[:2]}/{digest[2:]}"
                try:
                    try:
                        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
                    except FileNotFoundError:
                        os.makedirs(os.path.dirname(lock_file), exist_ok=True)
                        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
                except OSError as exc:
                    raise _translate(exc) from exc
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    yield
                finally:
                    os.close(fd)  # releases the flock
        finally:
            with self._guard:
                ref.users -= 1
                if ref.users == 0:
                    del self._thread_locks[(kind, key)]

    def _writer_lock(self, loc: _Location) -> AbstractContextManager[None]:
        # One key for a document and its container twin, so their writes are serialised.
        return self._exclusive("write", loc.path.rstrip("/") or "/")

    # -- temp files ----------------------------------------------------------------------------
    def _new_temp(self) -> tuple[int, str]:
        """A new file in tmp/, flocked for as long as the returned fd is open."""
        name = f"{self._tmp}/{os.getpid()}-{next(self._seq)}-{secrets.token_hex(4)}.tmp"
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd, name

    def _prepare_temp(self, data: bytes, previous_mtime_ns: int) -> tuple[int, str]:
        """A durable temp file holding ``data``, with an mtime after ``previous_mtime_ns``."""
        fd, name = self._new_temp()
        try:
            _write_all(fd, data)
            mtime = max(time.time_ns(), previous_mtime_ns + 1)
            os.utime(fd, ns=(mtime, mtime))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            _unlink_quietly(name)
            raise
        return fd, name

    def _sweep_temp_files(self) -> None:
        """Remove temp files of writers that died: old ones whose flock is free."""
        cutoff = time.time_ns() - STALE_TEMP_NS
        with os.scandir(self._tmp) as entries:
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_mtime_ns > cutoff:
                        continue
                    fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        os.unlink(entry.path)
                    finally:
                        os.close(fd)
                except OSError:  # held by a live writer (BlockingIOError), gone, or not ours to touch
                    continue

    # -- directory helpers ---------------------------------------------------------------------
    def _ensure_meta_dir(self, path: str) -> None:
        """Create a directory under meta/ and its missing parents, durably."""
        if os.path.isdir(path) or path == self._meta:
            return
        parent = os.path.dirname(path)
        self._ensure_meta_dir(parent)
        try:
            os.mkdir(path)
        except FileExistsError:
            return
        _fsync_dir(parent)

    def _touch_and_sync(self, directory: str) -> None:
        """Give a container directory a new mtime (a child changed) and make its entries durable."""
        try:
            st = os.lstat(directory)
            mtime = max(time.time_ns(), st.st_mtime_ns + 1)
            os.utime(directory, ns=(st.st_atime_ns, mtime), follow_symlinks=False)
            _fsync_dir(directory)
        except FileNotFoundError:
            pass  # emptied and deleted by another writer since our commit: nothing left to update

    def _set_sidecar(self, loc: _Location, content: bytes | None, *, durable: bool = True) -> None:
        """Replace (or remove) a document's sidecar; ``durable`` also fsyncs its directory."""
        if content is None:
            try:
                os.unlink(loc.sidecar)
            except (FileNotFoundError, NotADirectoryError):
                return
        else:
            self._ensure_meta_dir(loc.meta_dir)
            fd, name = self._prepare_temp(content, 0)
            try:
                os.replace(name, loc.sidecar)
            except BaseException:
                _unlink_quietly(name)
                raise
            finally:
                os.close(fd)
        if durable:
            _fsync_dir(loc.meta_dir)

    # -- reading -------------------------------------------------------------------------------
    def _document_stat(self, loc: _Location) -> Meta:
        for _ in range(_RETRIES):
            before = _lstat(loc.file)
            if before is None or not st_mode.S_ISREG(before.st_mode):
                raise NotFound(f"{loc.path} does not exist")
            known = self._known_type(loc.path, before)
            if known is not None:
                return _document_meta(loc.path, known, before)
            sidecar = _read_small(loc.sidecar)
            after = _lstat(loc.file)
            if after is not None and _version(before) == _version(after):  # one version throughout
                content_type = effective_type(sidecar, before.st_ino, loc.segments[-1])
                self._remember(loc.path, before, content_type)
                return _document_meta(loc.path, content_type, before)
        with self._writer_lock(loc):  # writers keep changing it: wait for a quiet moment
            st = _lstat(loc.file)
            if st is None or not st_mode.S_ISREG(st.st_mode):
                raise NotFound(f"{loc.path} does not exist")
            content_type = effective_type(_read_small(loc.sidecar), st.st_ino, loc.segments[-1])
            return _document_meta(loc.path, content_type, st)

    def _container_stat(self, loc: _Location) -> Meta:
        directory = _lstat(loc.file)
        if directory is None or not st_mode.S_ISDIR(directory.st_mode):
            raise NotFound(f"{loc.path} does not exist")
        body = _lstat(loc.sidecar)
        return _container_meta(loc.path, directory, body if body and st_mode.S_ISREG(body.st_mode) else None)

    def _read_document_once(self, loc: _Location) -> Stored | None:
        """The document, or None when it changed while being read."""
        try:
            fd = os.open(loc.file, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"{loc.path} does not exist") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a symbolic link is not a resource
                raise NotFound(f"{loc.path} does not exist") from None
            raise
        try:
            before = os.fstat(fd)
            if not st_mode.S_ISREG(before.st_mode):
                raise NotFound(f"{loc.path} does not exist")
            with io.FileIO(fd, closefd=False) as f:
                body = f.readall()
            content_type = self._known_type(loc.path, before)
            if content_type is None:
                sidecar = _read_small(loc.sidecar)
                after = _lstat(loc.file)  # the fd pins the inode, so it cannot be reused meanwhile
                if after is None or _version(before) != _version(after):
                    return None
                content_type = effective_type(sidecar, before.st_ino, loc.segments[-1])
                self._remember(loc.path, before, content_type)
            return Stored(_document_meta(loc.path, content_type, before), body)
        finally:
            os.close(fd)

    def _read_container(self, loc: _Location) -> Stored:
        directory = _lstat(loc.file)
        if directory is None or not st_mode.S_ISDIR(directory.st_mode):
            raise NotFound(f"{loc.path} does not exist")
        try:
            fd = os.open(loc.sidecar, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except (FileNotFoundError, NotADirectoryError):
            return Stored(_container_meta(loc.path, directory, None), b"")
        try:
            body_stat = os.fstat(fd)
            with io.FileIO(fd, closefd=False) as f:
                body = f.readall()
        finally:
            os.close(fd)
        return Stored(_container_meta(loc.path, directory, body_stat), body)

    # -- Backend -------------------------------------------------------------------------------
    def stat(self, path: str) -> Meta:
        loc = self._locate(path)
        try:
            # Most stats of missing paths are access control looking for .acl documents that do
            # not exist: one lstat answers those. A path that exists still gets its parents
            # checked (no symbolic links on the way) before it is trusted.
            if _lstat(loc.file) is None:
                raise NotFound(f"{loc.path} does not exist")
            self._require_parents(loc)
            return self._container_stat(loc) if loc.is_container else self._document_stat(loc)
        except OSError as exc:
            raise _translate(exc) from exc

    def read(self, path: str) -> Stored:
        loc = self._locate(path)
        try:
            self._require_parents(loc)
            if loc.is_container:
                return self._read_container(loc)
            for _ in range(_RETRIES):
                stored = self._read_document_once(loc)
                if stored is not None:
                    return stored
            with self._writer_lock(loc):
                stored = self._read_document_once(loc)
            if stored is None:  # only a writer that ignores our locks can get here
                raise StorageError("the resource kept changing while being read; retry")
            return stored
        except OSError as exc:
            raise _translate(exc) from exc

    def write(self, path: str, body: bytes, content_type: str) -> Meta:
        loc = self._locate(path)
        try:
            if loc.is_container:
                return self._write_container(loc, body)
            if not content_type or any(c in content_type for c in "\r\n\0"):
                raise BadRequest("the media type must be one line of text")
            return self._write_document(loc, body, content_type)
        except OSError as exc:
            raise _translate(exc) from exc

    def _write_document(self, loc: _Location, body: bytes, content_type: str) -> Meta:
        previous = _lstat(loc.file)
        fd, temp = self._prepare_temp(body, previous.st_mtime_ns if previous else 0)
        committed = False
        try:
            with self._writer_lock(loc):
                self._require_parents(loc)
                current = _lstat(loc.file)
                if current is not None and st_mode.S_ISDIR(current.st_mode):
                    raise _twin_conflict(loc.path)
                existing = _read_small(loc.sidecar)
                pinned = None
                if current is not None and st_mode.S_ISREG(current.st_mode):
                    pinned = (current.st_ino, effective_type(existing, current.st_ino, loc.segments[-1]))
                wanted = _sidecar_for(loc.segments[-1], content_type, pinned)
                if wanted != existing:
                    self._set_sidecar(loc, wanted)
                assert loc.parent_dir is not None
                try:
                    os.replace(temp, loc.file)  # the commit point
                except (FileNotFoundError, NotADirectoryError):
                    raise NotFound(f"the container {loc.path.rsplit('/', 1)[0]}/ does not exist") from None
                except IsADirectoryError:
                    raise _twin_conflict(loc.path) from None
                committed = True
                st = os.fstat(fd)
                self._remember(loc.path, st, content_type)
                self._touch_and_sync(loc.parent_dir)
                if pinned is not None and pinned[1] != content_type:
                    # Unpin the old body's inode now that it is gone (it may be reused, e.g. by a
                    # restore from backup). Either sidecar is right for the new body, so a crash
                    # here needs no fsync of the directory.
                    self._set_sidecar(loc, _sidecar_for(loc.segments[-1], content_type, None), durable=False)
            return _document_meta(loc.path, content_type, st)
        finally:
            os.close(fd)
            if not committed:
                _unlink_quietly(temp)

    def _write_container(self, loc: _Location, body: bytes) -> Meta:
        previous = _lstat(loc.sidecar)
        fd, temp = self._prepare_temp(body, previous.st_mtime_ns if previous else 0)
        committed = False
        try:
            with self._writer_lock(loc):
                self._require_parents(loc)
                current = _lstat(loc.file)
                if current is not None and not st_mode.S_ISDIR(current.st_mode):
                    raise _twin_conflict(loc.path)
                self._ensure_meta_dir(loc.meta_dir)
                os.replace(temp, loc.sidecar)  # for an existing container, the commit point
                committed = True
                _fsync_dir(loc.meta_dir)
                if current is None:
                    try:
                        os.mkdir(loc.file)  # for a new container, the commit point
                    except FileExistsError:
                        raise _twin_conflict(loc.path) from None
                    except (FileNotFoundError, NotADirectoryError):
                        raise NotFound(f"the container of {loc.path} does not exist") from None
                if loc.parent_dir is not None:
                    self._touch_and_sync(loc.parent_dir)
                directory = os.lstat(loc.file)
                return _container_meta(loc.path, directory, os.fstat(fd))
        finally:
            os.close(fd)
            if not committed:
                _unlink_quietly(temp)

    def delete(self, path: str) -> None:
        loc = self._locate(path)
        if loc.parent_dir is None:
            raise Conflict("the root container cannot be deleted")
        try:
            with self._writer_lock(loc):
                self._require_parents(loc)
                current = _lstat(loc.file)
                if loc.is_container:
                    if current is None or not st_mode.S_ISDIR(current.st_mode):
                        raise NotFound(f"{loc.path} does not exist")
                    try:
                        os.rmdir(loc.file)  # the commit point
                    except OSError as exc:
                        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                            raise Conflict(f"{loc.path} is not empty; delete its children first") from None
                        raise
                else:
                    if current is None or not st_mode.S_ISREG(current.st_mode):
                        raise NotFound(f"{loc.path} does not exist")
                    os.unlink(loc.file)  # the commit point
                self._touch_and_sync(loc.parent_dir)
                # The body is gone durably; leftovers below are harmless if a crash keeps them.
                _unlink_quietly(loc.sidecar)
                if loc.is_container:
                    with suppress(OSError):  # holds orphaned sidecars: leave it
                        os.rmdir(loc.meta_dir)
        except OSError as exc:
            raise _translate(exc) from exc

    def children(self, path: str, *, after: str | None = None, limit: int | None = None) -> list[Meta]:
        loc = self._locate(path)
        if not loc.is_container:
            raise NotFound(f"{path} is not a container")
        try:
            self._require_parents(loc)
            directory = _lstat(loc.file)
            if directory is None or not st_mode.S_ISDIR(directory.st_mode):
                raise NotFound(f"{path} does not exist")
            return self._children(loc, after, limit)
        except OSError as exc:
            raise _translate(exc) from exc

    def _children(self, loc: _Location, after: str | None, limit: int | None) -> list[Meta]:
        directory = os.open(loc.file, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW)
        try:
            before = os.fstat(directory)
            if limit is None:
                rows = self._all_rows(loc.path, directory, after)
            else:
                rows = self._page_rows(loc.path, directory, after, max(limit, 0))
            known, isdir = self._types.get, st_mode.S_ISDIR
            out: list[Meta | None] = []
            unknown: list[tuple[int, str, str, str, os.stat_result]] = []  # documents to look up
            containers: list[tuple[int, str, str, os.stat_result]] = []
            for child, name, segment, st in rows:
                if isdir(st.st_mode):
                    containers.append((len(out), child, name, st))
                    out.append(None)
                    continue
                ino, mtime, size = st.st_ino, st.st_mtime_ns, st.st_size
                content_type = known((child, ino, mtime, st.st_ctime_ns, size))
                if content_type is None:
                    unknown.append((len(out), child, name, segment, st))
                    out.append(None)
                else:  # _document_meta, inlined: this loop runs once per child
                    out.append(Meta(child, content_type, size, mtime / 1e9, f"{ino:x}-{mtime:x}-{size:x}"))
            if unknown or containers:
                self._fill_in(loc, directory, before, out, unknown, containers)
            return [m for m in out if m is not None]
        finally:
            os.close(directory)

    @staticmethod
    def _all_rows(
        prefix: str, directory: int, after: str | None
    ) -> list[tuple[str, str, str, os.stat_result]]:
        """Every child after ``after`` as (path, file name, segment, lstat), in path order.

        Each is stat'ed anyway, so the stat also tells directories from files.
        """
        rows: list[tuple[str, str, str, os.stat_result]] = []
        plain, lstat, isdir, isreg = _PLAIN.fullmatch, os.lstat, st_mode.S_ISDIR, st_mode.S_ISREG
        for name in os.listdir(directory):
            segment = name if plain(name) else name_to_segment(name)  # listdir skips . and ..
            if segment is None:
                continue
            try:
                st = lstat(name, dir_fd=directory)
            except FileNotFoundError:
                continue  # deleted meanwhile
            if isdir(st.st_mode):
                child = prefix + segment + "/"
            elif isreg(st.st_mode):
                child = prefix + segment
            else:
                continue
            if after is None or child > after:
                rows.append((child, name, segment, st))
        rows.sort(key=_first)  # code-point order of the URL-form paths
        return rows

    @staticmethod
    def _page_rows(
        prefix: str, directory: int, after: str | None, limit: int
    ) -> list[tuple[str, str, str, os.stat_result]]:
        """Like :meth:`_all_rows`, at most ``limit`` of them, stat'ing only those."""
        picked: list[tuple[str, str, str, bool]] = []
        plain = _PLAIN.fullmatch
        with os.scandir(directory) as entries:
            for entry in entries:  # the entry's type comes with the name: no stat needed to sort
                name = entry.name
                segment = name if plain(name) else name_to_segment(name)
                if segment is None:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    child, is_container = prefix + segment + "/", True
                elif entry.is_file(follow_symlinks=False):
                    child, is_container = prefix + segment, False
                else:
                    continue
                if after is None or child > after:
                    picked.append((child, name, segment, is_container))
        picked.sort()
        rows: list[tuple[str, str, str, os.stat_result]] = []
        for child, name, segment, is_container in picked:
            if len(rows) >= limit:
                break  # entries that vanished were skipped, so a short page means the end
            st = _lstat_at(name, directory)
            if st is not None and (st_mode.S_ISDIR if is_container else st_mode.S_ISREG)(st.st_mode):
                rows.append((child, name, segment, st))
        return rows

    def _fill_in(
        self,
        loc: _Location,
        directory: int,
        before: os.stat_result,
        out: list[Meta | None],
        unknown: list[tuple[int, str, str, str, os.stat_result]],
        containers: list[tuple[int, str, str, os.stat_result]],
    ) -> None:
        """Complete the listing with what the sidecars say, reading each of them once."""
        try:
            meta_dir: int | None = os.open(loc.meta_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            meta_dir = None
        try:
            sidecars = self._sidecars(meta_dir, [name for _, _, name, _, _ in unknown])
            for index, child, name, st in containers:
                body = None if meta_dir is None else _lstat_at(f"{name}/{CONTAINER_SIDECAR}", meta_dir)
                out[index] = _container_meta(
                    child, st, body if body and st_mode.S_ISREG(body.st_mode) else None
                )
        finally:
            if meta_dir is not None:
                os.close(meta_dir)
        # A writer changes a sidecar so that it no longer fits a body we stat'ed above only after
        # replacing or deleting that body and updating this directory's mtime. So if the
        # directory is unchanged, every sidecar read above fits the body stat'ed before it.
        now = os.fstat(directory)
        quiet = (now.st_mtime_ns, now.st_ctime_ns) == (before.st_mtime_ns, before.st_ctime_ns)
        for index, child, name, segment, st in unknown:
            if quiet:
                content_type = effective_type(sidecars.get(name), st.st_ino, segment)
                self._remember(child, st, content_type)
                out[index] = _document_meta(child, content_type, st)
                continue
            child_loc = _Location(
                child,
                (*loc.segments, segment),
                (*loc.names, name),
                f"{loc.file}/{name}",
                loc.file,
                loc.meta_dir,
                f"{loc.meta_dir}/{name}{DOCUMENT_SIDECAR_SUFFIX}",
            )
            try:
                out[index] = self._document_stat(child_loc)
            except NotFound:  # deleted since it was stat'ed: list it as it was, type as read
                out[index] = _document_meta(child, effective_type(sidecars.get(name), st.st_ino, segment), st)

    @staticmethod
    def _sidecars(meta_dir: int | None, names: list[str]) -> dict[str, bytes]:
        """The sidecars of the named documents that have one, by document file name."""
        if meta_dir is None or not names:
            return {}
        candidates = names
        if len(names) > 32:  # one scandir of the meta directory beats one failed open per name
            wanted = set(names)
            candidates = []
            with os.scandir(meta_dir) as entries:
                for entry in entries:
                    if entry.name.endswith(DOCUMENT_SIDECAR_SUFFIX):
                        name = entry.name[: -len(DOCUMENT_SIDECAR_SUFFIX)]
                        if name in wanted:
                            candidates.append(name)
        found: dict[str, bytes] = {}
        for name in candidates:
            content = _read_small(name + DOCUMENT_SIDECAR_SUFFIX, meta_dir)
            if content is not None:
                found[name] = content
        return found

    @contextmanager
    def lock(self, path: str) -> Iterator[None]:
        self._locate(path)  # refuse paths that are not canonical
        with self._exclusive("path", path):
            yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield  # each write is atomic on its own; the filesystem cannot group them

    def close(self) -> None:
        """Nothing to release: no file descriptor outlives the call that opened it."""


__all__ = [
    "CONTAINER_SIDECAR",
    "DEFAULT_TYPES",
    "DOCUMENT_SIDECAR_SUFFIX",
    "FilesystemBackend",
    "default_type",
    "effective_type",
    "name_to_segment",
    "segment_to_name",
]
