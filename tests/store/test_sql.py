"""The SQL backend beyond the shared contract: migrations, transactions, locks, listing cost, errors.

Every test runs on SQLite (a file in tmp_path) and PostgreSQL (a fresh schema; skipped when the
server is down, failed in CI).
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from pod_server.errors import NotFound, ServiceUnavailable, StorageError
from pod_server.migrations import HEAD, alembic_config, upgrade
from pod_server.store.backend import CONTAINER_TYPE
from pod_server.store.sql import SqlBackend, resources
from tests.postgres import fresh_postgres_url
from tests.store.conftest import POSTGRES_URL

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pod.sqlite3'}"
    return fresh_postgres_url(POSTGRES_URL)


@pytest.fixture
def backend(url: str) -> Iterator[SqlBackend]:
    b = SqlBackend(url)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def plain_engine(url: str) -> Iterator[Engine]:
    """An engine that is not the backend's, to look at the database from outside."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


class Statements:
    """Collects the SQL every engine sends while it is active."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __enter__(self) -> Statements:
        event.listen(Engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.sql.append(statement)


# -- migrations -------------------------------------------------------------------------------
def test_head_constant_matches_the_migration_scripts() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_migrations_build_the_schema_on_a_fresh_database_and_are_idempotent(
    url: str, plain_engine: Engine
) -> None:
    upgrade(url)
    upgrade(url)  # a second run is a no-op, not an error

    inspector = inspect(plain_engine)
    assert {"resources", "alembic_version"} <= set(inspector.get_table_names())
    columns = [c["name"] for c in inspector.get_columns("resources")]
    assert columns == ["path", "parent", "name", "content_type", "size", "mtime", "etag", "body"]
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("resources")}
    assert indexes["ix_resources_parent_path"] == ["parent", "path"]
    with plain_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        assert conn.execute(text("SELECT path FROM resources")).scalars().all() == ["/"]

    # A backend opened without migrating works on the migrated database.
    b = SqlBackend(url, migrate=False)
    try:
        assert b.stat("/").content_type == CONTAINER_TYPE
    finally:
        b.close()


# -- transactions -----------------------------------------------------------------------------
def test_transaction_rolls_back_every_write_made_inside_it(backend: SqlBackend) -> None:
    root_before = backend.stat("/")
    with pytest.raises(RuntimeError), backend.transaction():
        backend.write("/a/", b"", CONTAINER_TYPE)
        with backend.transaction():  # nested: joins the outer transaction
            backend.write("/a/b", b"hello", "text/plain")
        raise RuntimeError("boom")
    for path in ("/a/", "/a/b"):
        with pytest.raises(NotFound):
            backend.stat(path)
    assert backend.stat("/") == root_before
    assert backend.children("/") == []


def test_transaction_commits_all_writes_together(backend: SqlBackend, url: str) -> None:
    other = SqlBackend(url, migrate=False)  # another connection, as another process would have
    try:
        with backend.transaction():
            backend.write("/a/", b"", CONTAINER_TYPE)
            backend.write("/a/b", b"hello", "text/plain")
            assert backend.read("/a/b").body == b"hello"  # the transaction sees its own writes
            with pytest.raises(NotFound):
                other.stat("/a/")  # nobody else does before the commit
        assert other.read("/a/b").body == b"hello"
        assert [m.path for m in other.children("/a/")] == ["/a/b"]
    finally:
        other.close()


def test_concurrent_writers_queue_instead_of_failing(backend: SqlBackend) -> None:
    # SQLite: BEGIN IMMEDIATE + busy_timeout; PostgreSQL: the parent row lock. No 503, no lost child.
    backend.write("/c/", b"", CONTAINER_TYPE)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                with backend.transaction():
                    backend.write(f"/c/{n}-{i:02d}", b"x" * i, "text/plain")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(backend.children("/c/")) == 8 * 25


# -- listing ----------------------------------------------------------------------------------
def test_children_never_selects_bodies(backend: SqlBackend) -> None:
    backend.write("/c/", b"", CONTAINER_TYPE)
    for name in ("x", "y", "z"):
        backend.write(f"/c/{name}", b"B" * 1000, "application/octet-stream")
    with Statements() as seen:
        listed = backend.children("/c/", after="/c/x", limit=5)
    assert [m.path for m in listed] == ["/c/y", "/c/z"]
    selects = [s for s in seen.sql if s.lstrip().upper().startswith("SELECT")]
    assert any("resources" in s for s in selects)
    assert not [s for s in selects if re.search(r"\bbody\b", s)], selects
    with Statements() as seen:
        backend.read("/c/x")
    assert any(re.search(r"\bbody\b", s) for s in seen.sql)  # the check above can see a body


def test_children_sort_in_code_point_order(backend: SqlBackend) -> None:
    names = ["b", "B", "a", "Z", "_", "~", "%C3%A9", "é", "a-b", "a.b", "A/", "a0"]
    for name in names:
        if name.endswith("/"):
            backend.write(f"/{name}", b"", CONTAINER_TYPE)
        else:
            backend.write(f"/{name}", b"", "text/plain")
    listed = [m.path for m in backend.children("/")]
    assert listed == sorted(f"/{n}" for n in names)


def test_ten_thousand_children_list_fast(
    backend: SqlBackend, url: str, plain_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.write("/big/", b"", CONTAINER_TYPE)
    body = b"x" * 4096  # 40 MB of bodies that listing must not read
    rows = [
        {
            "path": f"/big/{i:05d}",
            "parent": "/big/",
            "name": f"{i:05d}",
            "content_type": "application/octet-stream",
            "size": len(body),
            "mtime": time.time(),
            "etag": f"e{i}",
            "body": body,
        }
        for i in range(10_000)
    ]
    with plain_engine.begin() as conn:  # bulk setup; the backend's write path is tested elsewhere
        conn.execute(resources.insert(), rows)

    started = time.perf_counter()
    listed = backend.children("/big/")
    full = time.perf_counter() - started
    started = time.perf_counter()
    page = backend.children("/big/", after="/big/05000", limit=100)
    paged = time.perf_counter() - started

    assert len(listed) == 10_000
    assert listed[0].path == "/big/00000" and listed[-1].path == "/big/09999"
    assert [m.path for m in page] == [f"/big/{i:05d}" for i in range(5001, 5101)]
    with capsys.disabled():
        kind = url.split(":")[0]
        print(f"\n[{kind}] children of 10,000: {full * 1000:.0f} ms; page of 100: {paged * 1000:.1f} ms")
    assert full < 2.0
    assert paged < 0.2


# -- locks ------------------------------------------------------------------------------------
def test_lock_excludes_other_backend_objects_and_threads(backend: SqlBackend, url: str) -> None:
    other = SqlBackend(url, migrate=False)
    taken = threading.Event()
    order: list[str] = []

    def contender() -> None:
        with other.lock("/a"):
            order.append("other")

    try:
        with backend.lock("/a"):
            thread = threading.Thread(target=contender)
            thread.start()
            with other.lock("/b"):  # a different path is free
                taken.set()
            time.sleep(0.3)
            order.append("first")
        thread.join(5)
        assert not thread.is_alive()
    finally:
        other.close()
    assert taken.is_set()
    assert order == ["first", "other"]


_WORKER = textwrap.dedent(
    """
    import sys, time
    from pod_server.errors import NotFound
    from pod_server.store.sql import SqlBackend

    url, rounds = sys.argv[1], int(sys.argv[2])
    backend = SqlBackend(url)  # both workers migrate a fresh database at the same time
    for _ in range(rounds):
        with backend.lock("/counter"):
            try:
                value = int(backend.read("/counter").body)
            except NotFound:
                value = 0
            time.sleep(0.002)  # widen the read-modify-write window
            backend.write("/counter", str(value + 1).encode(), "text/plain")
    backend.close()
    """
)


def test_lock_serialises_writers_in_different_processes(url: str) -> None:
    rounds = 40
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, str(rounds)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    b = SqlBackend(url, migrate=False)
    try:
        assert int(b.read("/counter").body) == 3 * rounds  # no lost update
    finally:
        b.close()


# -- errors -----------------------------------------------------------------------------------
def test_a_locked_sqlite_database_is_service_unavailable(tmp_path: Path) -> None:
    database = tmp_path / "pod.sqlite3"
    b = SqlBackend(f"sqlite:///{database}?timeout=0.2")
    blocker = sqlite3.connect(database, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(ServiceUnavailable) as caught:
            b.write("/a", b"x", "text/plain")
        assert caught.value.headers.get("Retry-After")
        assert str(database) not in caught.value.detail
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
        blocker.execute("ROLLBACK")
        assert b.write("/a", b"x", "text/plain").size == 1  # and it recovers
    finally:
        blocker.close()
        b.close()


def test_an_unreachable_postgres_is_service_unavailable_without_leaking_the_url() -> None:
    secret = "s3cret-pw"
    with pytest.raises(ServiceUnavailable) as caught:
        SqlBackend(f"postgresql+psycopg://pod:{secret}@127.0.0.1:1/pod?connect_timeout=2")
    assert secret not in str(caught.value)
    assert "127.0.0.1:1" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_an_unknown_database_kind_is_a_storage_error() -> None:
    with pytest.raises(StorageError):
        SqlBackend("mysql://root:pw@localhost/pod")


def test_in_memory_sqlite_is_one_database_shared_by_threads() -> None:
    b = SqlBackend("sqlite://")
    try:
        thread = threading.Thread(target=b.write, args=("/t", b"from a thread", "text/plain"))
        thread.start()
        thread.join(5)
        assert b.read("/t").body == b"from a thread"
    finally:
        b.close()


# -- the test helper --------------------------------------------------------------------------
@pytest.mark.parametrize(("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_an_unreachable_test_postgres_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=re.escape("PostgreSQL not reachable at 127.0.0.1:1:")):
        fresh_postgres_url("postgresql+psycopg://postgres@127.0.0.1:1/test")
