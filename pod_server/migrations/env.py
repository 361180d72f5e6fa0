"""Alembic environment: runs the migrations on the connection pod-server hands over.

``pod_server.migrations.upgrade_connection`` passes an open connection in
``config.attributes["connection"]``. From the alembic command line, pass ``-x url=...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection


def _run(connection: Connection) -> None:
    # transactional_ddl: the whole upgrade commits or rolls back as one, on SQLite too (the
    # backend's engine emits a real BEGIN there, so SQLite DDL is transactional).
    context.configure(connection=connection, transactional_ddl=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with -x url=sqlite:///path/to/pod.sqlite3")
    from pod_server.store.sql import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
