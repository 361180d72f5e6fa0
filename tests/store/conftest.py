"""Backends for the contract tests: every Backend implementation must pass the same tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pod_server.store.backend import Backend

BACKEND_NAMES = ["memory", "filesystem", "sqlite", "postgres"]
POSTGRES_URL = os.environ.get(
    "POD_SERVER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def make_backend(name: str, tmp_path: Path) -> Backend:
    """A fresh, empty backend of the named kind."""
    if name == "memory":
        from pod_server.store.memory import MemoryBackend

        return MemoryBackend()
    if name == "filesystem":
        from pod_server.store.filesystem import FilesystemBackend

        return FilesystemBackend(tmp_path / "data")
    if name == "sqlite":
        from pod_server.store.sql import SqlBackend

        return SqlBackend(f"sqlite:///{tmp_path / 'pod.sqlite3'}")
    if name == "postgres":
        from pod_server.store.sql import SqlBackend
        from tests.postgres import fresh_postgres_url

        return SqlBackend(fresh_postgres_url(POSTGRES_URL))
    raise ValueError(name)


@pytest.fixture(params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = make_backend(request.param, tmp_path)
    try:
        yield b
    finally:
        b.close()
