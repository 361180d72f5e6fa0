"""The server's own database: accounts, pods, client credentials, identity-provider state.

One SQLAlchemy database at ``Settings.sql_url`` (SQLite in the data folder by default, PostgreSQL by
URL), with the same Alembic migration tree as the SQL storage backend (``pod_server/migrations``),
so one ``upgrade`` brings every table up to date. Writes go through :meth:`Database.begin`, which on
SQLite takes the write lock at BEGIN (``BEGIN IMMEDIATE``) so concurrent writers queue instead of
failing; reads use :meth:`Database.connect`.

Foreign errors are translated here: an ``IntegrityError`` becomes ``Conflict``, an unreachable or
busy database ``ServiceUnavailable``; neither message carries the URL or statement parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from pod_server.errors import Conflict, ServiceUnavailable, StorageError
from pod_server.migrations import upgrade, upgrade_connection
from pod_server.store.sql import _WRITE, make_engine, sqlite_file


class Database:
    """An open, migrated database. Thread-safe; share one per process."""

    def __init__(self, url: str) -> None:
        upgrade(url)  # cross-process safe: the SQL backend locks around migrations
        try:
            self.engine = make_engine(url)
        except (sa_exc.ArgumentError, ImportError):
            raise StorageError("the database URL is invalid or its driver is not installed") from None
        if self.engine.dialect.name == "sqlite" and sqlite_file(make_url(url)) is None:
            # An in-memory database lives in this engine only: migrate it here.
            with _translated(), self.engine.connect() as conn:
                upgrade_connection(conn.execution_options(**{_WRITE: True}))

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with _translated(), self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with _translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sa_exc.IntegrityError:
        raise Conflict("that already exists") from None
    except sa_exc.OperationalError:
        raise ServiceUnavailable(
            "the database is busy or unreachable; try again shortly", headers={"Retry-After": "2"}
        ) from None
    except sa_exc.SQLAlchemyError:
        raise StorageError("the database failed") from None


def init_app(app: Flask, database: Database) -> None:
    app.extensions["pod_server.db"] = database


__all__ = ["Database", "init_app"]
