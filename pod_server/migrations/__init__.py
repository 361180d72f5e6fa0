"""Alembic migrations of the SQL backend's schema, configured in code (no working directory needed).

``upgrade(url)`` brings a database to the newest schema; :class:`~pod_server.store.sql.SqlBackend`
does the same on open (``migrate=True``) under a cross-process lock, so several workers starting
at once are safe. Migrations are hand-written in ``versions/`` and must work on SQLite and
PostgreSQL. To add one, copy the newest file, bump ``revision``/``down_revision`` and test it with
``tests/store/test_sql.py``; ``alembic -c pod_server/migrations/alembic.ini`` works for inspection.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

HERE = Path(__file__).resolve().parent
HEAD = "0004"
"""The newest revision; ``tests/store/test_sql.py`` checks it matches the scripts."""


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration of this package, bound to ``connection`` when given."""
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_connection(connection: Connection) -> None:
    """Run ``upgrade head`` on an open connection. The caller serialises concurrent upgrades."""
    command.upgrade(alembic_config(connection), "head")


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema and create the root container.

    Safe to run from several processes at once (it opens the backend, which locks around it).
    """
    from pod_server.store.sql import SqlBackend  # the backend imports this module; import lazily

    SqlBackend(url, migrate=True).close()


__all__ = ["HEAD", "alembic_config", "upgrade", "upgrade_connection"]
