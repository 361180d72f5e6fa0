"""The SQL backend: one ``resources`` table in SQLite (default) or PostgreSQL, via SQLAlchemy 2 Core.

Layout (created by the Alembic migration ``pod_server/migrations/versions/0001_resources.py``)::

    resources(path PK, parent -> resources.path, name, content_type, size, mtime, etag, body)
    index (parent, path)

``children`` is a range scan of the ``(parent, path)`` index that selects the metadata columns only;
``body`` is the last column so SQLite never reads a body's overflow pages for metadata, and
PostgreSQL never de-TOASTs it. On PostgreSQL the path columns use the "C" collation so ``ORDER BY
path`` is code-point order (SQLite's default BINARY collation already is, for UTF-8).

Transactions. Every ``write``/``delete`` runs in one database transaction that also touches the
parent container's etag and mtime. Inside ``with backend.transaction():`` the operations of the
current thread (or asyncio task: the connection lives in a :class:`~contextvars.ContextVar`) join
one transaction that commits at the end of the block, or rolls back if it raises. Nested
``transaction()`` blocks join the outermost one. A write locks its parent container's row first
(``SELECT ... FOR UPDATE``), so writers in one container serialise on PostgreSQL and a container
cannot be deleted while a child is being written into it; SQLite write transactions start with
``BEGIN IMMEDIATE`` (SQLAlchemy's documented recipe: the driver's own BEGIN is switched off with
``isolation_level = None`` and the ``begin`` event emits ours), run in WAL mode and wait up to
``busy_timeout`` (10 s; a ``?timeout=`` in the URL overrides it) instead of failing at once.

Locks. ``lock(path)`` first takes an in-process lock for the path (threads queue there without
holding a database connection), then a cross-process lock:

- PostgreSQL: a session advisory lock ``pg_advisory_lock(key)`` on a dedicated autocommit
  connection held for the duration, where ``key`` is a 64-bit hash of the schema and the path (so
  pods in different schemas of one database do not contend);
- SQLite file: a Linux open-file-description lock (``F_OFD_SETLKW``) on one byte of the lock file
  ``<database>.lock`` beside the database, the byte chosen by a hash of the path. Unlike ``flock``
  it is per path; unlike POSIX ``lockf`` it excludes threads and other backend objects of the same
  process too, and closing one descriptor does not drop another's locks;
- SQLite in memory (``sqlite://``): the in-process lock only (nothing else can see the database).

Errors. SQLAlchemy and driver errors are translated here and nowhere else: integrity errors become
:class:`~pod_server.errors.Conflict`, operational errors (locked, unreachable, timed out)
:class:`~pod_server.errors.ServiceUnavailable`, anything else :class:`~pod_server.errors.StorageError`.
Messages never include the URL (it may hold a password) or statement parameters (bodies).
"""

from __future__ import annotations

import contextvars
import fcntl
import hashlib
import logging
import os
import secrets
import struct
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Engine,
    LargeBinary,
    MetaData,
    Row,
    Table,
    Text,
    create_engine,
    delete,
    event,
    exists,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import StaticPool

from pod_server.errors import Conflict, NotFound, PodError, ServiceUnavailable, StorageError
from pod_server.migrations import upgrade_connection
from pod_server.store.backend import CONTAINER_TYPE, Meta, Stored, parent_of

log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 10.0
"""How long a SQLite writer waits for another writer before giving up with 503."""

_WRITE = "pod_server_write"
"""Execution option marking a connection whose transaction will write (SQLite: BEGIN IMMEDIATE)."""

# The table as the code sees it. The schema itself is owned by the Alembic migrations.
_metadata = MetaData()
resources = Table(
    "resources",
    _metadata,
    Column("path", Text, primary_key=True),
    Column("parent", Text),
    Column("name", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime", Double, nullable=False),
    Column("etag", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
)
_META_COLUMNS = (
    resources.c.path,
    resources.c.content_type,
    resources.c.size,
    resources.c.mtime,
    resources.c.etag,
)


def _new_etag() -> str:
    """A strong validator: 64 random bits, so processes sharing the database never repeat one."""
    return secrets.token_hex(8)


def _name(path: str) -> str:
    if path == "/":
        return ""
    trimmed = path[:-1] if path.endswith("/") else path
    return trimmed.rsplit("/", 1)[-1] + ("/" if path.endswith("/") else "")


def _meta(row: Row[*tuple[Any, ...]]) -> Meta:
    return Meta(row.path, row.content_type, int(row.size), float(row.mtime), row.etag)


def _key64(*parts: str) -> int:
    """A signed 64-bit hash (PostgreSQL advisory lock keys are bigint)."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def sqlite_file(url: URL) -> str | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):  # a URI filename (?uri=true)
        database = database[len("file:") :].split("?", 1)[0]
    return os.path.abspath(database)


# -- engine -------------------------------------------------------------------------------------
def make_engine(url: str | URL, **options: Any) -> Engine:
    """An engine configured for this backend (SQLite pragmas and BEGIN handling, safe errors).

    ``options`` go to :func:`sqlalchemy.create_engine` (PostgreSQL only: pool settings).
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"hide_parameters": True}  # exceptions never carry bodies
    if parsed.get_backend_name() == "sqlite":
        connect_args: dict[str, Any] = {"check_same_thread": False}
        if "timeout" not in parsed.query:
            connect_args["timeout"] = BUSY_TIMEOUT_SECONDS  # sqlite3 sets busy_timeout from it
        kwargs["connect_args"] = connect_args
        if sqlite_file(parsed) is None:
            kwargs["poolclass"] = StaticPool  # one shared in-memory database, not one per thread
        engine = create_engine(parsed, **kwargs)
        in_memory = sqlite_file(parsed) is None

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # SQLAlchemy docs, "Enabling Non-Legacy SQLite Transactional Modes": stop the sqlite3
            # driver from emitting its own (deferred, DML-only) BEGIN; the begin event emits ours.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                if not in_memory:
                    cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
                cursor.execute("PRAGMA foreign_keys = ON")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on busy_timeout
            # instead of failing with "database is locked" when a reader upgrades.
            write = connection.get_execution_options().get(_WRITE, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": 10}
    return create_engine(parsed, pool_pre_ping=True, **kwargs, **options)


# -- error translation --------------------------------------------------------------------------
@contextmanager
def _translated(dbapi: Any) -> Iterator[None]:
    """Turn SQLAlchemy and driver errors into the pod error tree, with messages safe to show."""
    operational = (sa_exc.OperationalError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
    try:
        yield
    except PodError:
        raise
    except sa_exc.IntegrityError:
        log.warning("database integrity error", exc_info=True)
        raise Conflict("the resource conflicts with a concurrent change; retry the request") from None
    except operational:
        log.warning("database unavailable", exc_info=True)
        raise ServiceUnavailable(
            "the database is busy or unreachable; retry shortly", headers={"Retry-After": "1"}
        ) from None
    except sa_exc.SQLAlchemyError:
        log.error("database error", exc_info=True)
        raise StorageError("the database failed to complete the operation") from None
    except Exception as exc:
        # Raw driver errors can surface outside SQLAlchemy's wrapping (e.g. in connect events).
        if dbapi is None or not isinstance(exc, dbapi.Error):
            raise
        if isinstance(exc, dbapi.OperationalError):
            log.warning("database unavailable", exc_info=True)
            raise ServiceUnavailable(
                "the database is busy or unreachable; retry shortly", headers={"Retry-After": "1"}
            ) from None
        log.error("database error", exc_info=True)
        raise StorageError("the database failed to complete the operation") from None


# -- locks --------------------------------------------------------------------------------------
@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0


class _PathLocks:
    """One in-process lock per path, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._slots: dict[str, _Slot] = {}

    @contextmanager
    def hold(self, path: str) -> Iterator[None]:
        with self._guard:
            slot = self._slots.setdefault(path, _Slot())
            slot.users += 1
        try:
            with slot.lock:
                yield
        finally:
            with self._guard:
                slot.users -= 1
                if slot.users == 0:
                    del self._slots[path]


_MIGRATION_BYTE = 0
_OFD_SPAN = 2**62  # lock bytes 1 .. 2**62; byte 0 is the migration lock


@contextmanager
def _file_byte_lock(lock_file: str, offset: int) -> Iterator[None]:
    """An exclusive open-file-description lock on one byte of ``lock_file`` (Linux)."""
    # struct flock {short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid;}
    # l_pid must be 0 for OFD locks; "0q" pads the struct to its natural alignment.
    request = struct.pack("hhqqi0q", fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0)
    try:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        log.warning("cannot open the lock file %s", lock_file, exc_info=True)
        raise StorageError("cannot open the storage lock file beside the database") from None
    try:
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, request)
        except OSError:
            log.warning("cannot lock %s", lock_file, exc_info=True)
            raise StorageError("cannot take the storage lock") from None
        yield
    finally:
        os.close(fd)  # closing the description releases its lock


def _dispose(engines: list[Engine]) -> None:
    for engine in engines:
        engine.dispose()


# -- the backend --------------------------------------------------------------------------------
class SqlBackend:
    """A :class:`~pod_server.store.backend.Backend` over SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        try:
            parsed = make_url(url)
            self._dialect = parsed.get_backend_name()
            if self._dialect not in ("sqlite", "postgresql"):
                raise StorageError(f"unsupported database {self._dialect!r}: use sqlite:// or postgresql://")
            self._engine = make_engine(parsed)
        except (sa_exc.ArgumentError, ImportError):
            # The message of ArgumentError may quote the URL: do not pass it on.
            raise StorageError("the database URL is invalid or its driver is not installed") from None
        self._dbapi = self._engine.dialect.loaded_dbapi
        self._current: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
            f"pod_server_sql_{id(self)}", default=None
        )
        self._path_locks = _PathLocks()
        self._lock_file: str | None = None
        self._memory_guard: threading.RLock | None = None
        self._lock_engine: Engine | None = None
        self._namespace = ""
        # Close pooled connections even if the owner forgets close(): drivers warn about (and the
        # server keeps) connections that are garbage-collected while open.
        self._closer = weakref.finalize(self, _dispose, [self._engine])
        try:
            with self._translated():
                if self._dialect == "sqlite":
                    database = sqlite_file(parsed)
                    if database is None:
                        # One shared DBAPI connection (StaticPool): one thread uses it at a time.
                        self._memory_guard = threading.RLock()
                    else:
                        self._lock_file = database + ".lock"
                else:
                    # A separate pool for lock connections: a held lock never starves data access.
                    # Autocommit: a waiting or held lock never keeps a transaction open.
                    self._lock_engine = make_engine(
                        parsed, pool_size=5, max_overflow=-1, isolation_level="AUTOCOMMIT"
                    )
                    self._closer.detach()
                    self._closer = weakref.finalize(self, _dispose, [self._engine, self._lock_engine])
                    with self._engine.connect() as conn:
                        self._namespace = str(conn.execute(text("SELECT current_schema()")).scalar_one())
                with self._migration_lock():
                    if migrate:
                        with self._engine.connect() as conn:
                            upgrade_connection(conn.execution_options(**{_WRITE: True}))
                    self._ensure_root()
        except BaseException:
            self.close()
            raise

    # -- plumbing ----------------------------------------------------------------------------
    def _translated(self) -> AbstractContextManager[None]:
        return _translated(self._dbapi)

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """Serialise schema upgrades and root creation between processes opening the database."""
        if self._lock_engine is not None:
            with self._advisory_lock(_key64("pod_server.migrations", self._namespace)):
                yield
        elif self._lock_file is not None:
            with _file_byte_lock(self._lock_file, _MIGRATION_BYTE):
                yield
        else:
            yield

    @contextmanager
    def _advisory_lock(self, key: int) -> Iterator[None]:
        assert self._lock_engine is not None
        conn = self._lock_engine.connect()
        try:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                except sa_exc.DBAPIError:
                    conn.invalidate()  # never return a connection that may still hold the lock
                    raise
        finally:
            conn.close()

    @contextmanager
    def _connection(self, *, write: bool) -> Iterator[Connection]:
        """The current transaction's connection, or a new one in its own transaction."""
        current = self._current.get()
        if current is not None:
            yield current
            return
        guard = self._memory_guard if self._memory_guard is not None else nullcontext()
        with self._translated(), guard, self._engine.connect() as conn:
            if write:
                conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    def _ensure_root(self) -> None:
        with self._connection(write=True) as conn:
            if conn.execute(select(resources.c.path).where(resources.c.path == "/")).first() is None:
                conn.execute(insert(resources).values(self._row("/", b"", CONTAINER_TYPE, time.time())))

    @staticmethod
    def _row(path: str, body: bytes, content_type: str, now: float) -> dict[str, Any]:
        return {
            "path": path,
            "parent": None if path == "/" else parent_of(path),
            "name": _name(path),
            "content_type": content_type,
            "size": len(body),
            "mtime": now,
            "etag": _new_etag(),
            "body": body,
        }

    @staticmethod
    def _lock_row(conn: Connection, path: str) -> bool:
        """Lock the row of ``path`` until the transaction ends (PostgreSQL); False if missing."""
        query = select(resources.c.path).where(resources.c.path == path).with_for_update()
        return conn.execute(query).first() is not None

    @staticmethod
    def _exists(conn: Connection, path: str) -> bool:
        return conn.execute(select(exists().where(resources.c.path == path))).scalar_one()

    @staticmethod
    def _touch(conn: Connection, container: str, now: float) -> None:
        conn.execute(
            update(resources).where(resources.c.path == container).values(etag=_new_etag(), mtime=now)
        )

    # -- Backend -----------------------------------------------------------------------------
    def stat(self, path: str) -> Meta:
        with self._connection(write=False) as conn:
            row = conn.execute(select(*_META_COLUMNS).where(resources.c.path == path)).first()
        if row is None:
            raise NotFound(f"{path} does not exist")
        return _meta(row)

    def read(self, path: str) -> Stored:
        with self._connection(write=False) as conn:
            row = conn.execute(
                select(*_META_COLUMNS, resources.c.body).where(resources.c.path == path)
            ).first()
        if row is None:
            raise NotFound(f"{path} does not exist")
        return Stored(_meta(row), bytes(row.body))

    def write(self, path: str, body: bytes, content_type: str) -> Meta:
        if path.endswith("/"):
            content_type = CONTAINER_TYPE
        now = time.time()
        with self._connection(write=True) as conn:
            if path != "/":
                parent = parent_of(path)
                if not self._lock_row(conn, parent):
                    raise NotFound(f"the container {parent} does not exist")
                twin = path[:-1] if path.endswith("/") else path + "/"
                if self._exists(conn, twin):
                    raise Conflict(f"{twin} already exists")
                self._touch(conn, parent, now)
            row = self._row(path, body, content_type, now)
            changed = conn.execute(
                update(resources)
                .where(resources.c.path == path)
                .values(content_type=content_type, size=row["size"], mtime=now, etag=row["etag"], body=body)
            )
            if changed.rowcount == 0:
                conn.execute(insert(resources).values(row))
        return Meta(path, content_type, row["size"], now, row["etag"])

    def delete(self, path: str) -> None:
        if path == "/":
            raise Conflict("the root container cannot be deleted")
        now = time.time()
        with self._connection(write=True) as conn:
            parent = parent_of(path)
            # Lock order is ancestor first, as in write, so deleters and writers cannot deadlock.
            self._lock_row(conn, parent)
            if not self._lock_row(conn, path):
                raise NotFound(f"{path} does not exist")
            if path.endswith("/"):
                child = conn.execute(select(resources.c.path).where(resources.c.parent == path).limit(1))
                if child.first() is not None:
                    raise Conflict(f"{path} is not empty")
            conn.execute(delete(resources).where(resources.c.path == path))
            self._touch(conn, parent, now)

    def children(self, path: str, *, after: str | None = None, limit: int | None = None) -> list[Meta]:
        query = select(*_META_COLUMNS).where(resources.c.parent == path)
        if after is not None:
            query = query.where(resources.c.path > after)
        query = query.order_by(resources.c.path)
        if limit is not None:
            query = query.limit(limit)
        with self._connection(write=False) as conn:
            if not self._exists(conn, path):
                raise NotFound(f"{path} does not exist")
            rows = conn.execute(query).all()
        return [_meta(row) for row in rows]

    @contextmanager
    def lock(self, path: str) -> Iterator[None]:
        with self._path_locks.hold(path):
            if self._lock_engine is not None:
                with self._translated(), self._advisory_lock(_key64(self._namespace, path)):
                    yield
            elif self._lock_file is not None:
                with _file_byte_lock(self._lock_file, 1 + _key64(path) % _OFD_SPAN):
                    yield
            else:
                yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._current.get() is not None:
            yield  # nested: join the outer transaction
            return
        with self._connection(write=True) as conn:
            token = self._current.set(conn)
            try:
                yield
            finally:
                self._current.reset(token)

    def close(self) -> None:
        self._closer()


__all__ = ["BUSY_TIMEOUT_SECONDS", "SqlBackend", "make_engine", "resources", "sqlite_file"]
