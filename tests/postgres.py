"""PostgreSQL for tests: one fresh, empty schema per call, dropped when the test process exits.

``fresh_postgres_url(base)`` creates a schema ``t_<pid>_<random>`` and returns ``base`` with
``options=-csearch_path=<schema>`` (libpq options, honoured by psycopg), so everything a test
creates (tables, the Alembic version table) lands in its own schema and tests never see each
other's rows. Schemas are dropped at exit; schemas left by a test process that died (its pid is
no longer alive on this machine) are dropped by the next run.

Unreachable server: the test is skipped, except in CI (``CI=true``), where it fails: CI provides
PostgreSQL and must run these tests.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

_SCHEMA = re.compile(r"^t_(\d+)_[0-9a-f]+$")
_created: dict[str, list[str]] = {}  # rendered admin URL -> schemas this process created
_swept: set[str] = set()


def _admin_engine(url: URL) -> Engine:
    return create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop(engine: Engine, schemas: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '5s'"))
        for schema in schemas:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _sweep_dead(engine: Engine) -> None:
    """Drop the schemas of earlier test processes that did not get to clean up."""
    with engine.connect() as conn:
        names = conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")).scalars()
        dead = [n for n in names if (m := _SCHEMA.match(n)) and not _pid_alive(int(m.group(1)))]
    if dead:
        _drop(engine, dead)


def fresh_postgres_url(base_url: str) -> str:
    """A URL to an empty schema of the database at ``base_url``, private to the caller."""
    base = make_url(base_url)
    where = f"{base.host or 'localhost'}:{base.port or 5432}"
    admin = base.render_as_string(hide_password=False)
    schema = f"t_{os.getpid()}_{secrets.token_hex(6)}"
    engine = _admin_engine(base)
    try:
        if admin not in _swept:
            _sweep_dead(engine)
            _swept.add(admin)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        message = f"PostgreSQL not reachable at {where}: {reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()
    _created.setdefault(admin, []).append(schema)
    return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@atexit.register
def _drop_created() -> None:
    for admin, schemas in _created.items():
        engine = _admin_engine(make_url(admin))
        try:
            _drop(engine, schemas)
        except SQLAlchemyError:
            pass  # the next run's sweep removes them
        finally:
            engine.dispose()
