"""Backends by name: the one place that maps ``Settings.backend`` to an implementation."""

from __future__ import annotations

from collections.abc import Callable

from pod_server.config import Settings
from pod_server.store.backend import Backend


def _memory(settings: Settings) -> Backend:
    from pod_server.store.memory import MemoryBackend

    return MemoryBackend()


def _filesystem(settings: Settings) -> Backend:
    from pod_server.store.filesystem import FilesystemBackend

    return FilesystemBackend(settings.data_dir)


def _sql(settings: Settings) -> Backend:
    from pod_server.store.sql import SqlBackend

    return SqlBackend(settings.sql_url)


FACTORIES: dict[str, Callable[[Settings], Backend]] = {
    "memory": _memory,
    "filesystem": _filesystem,
    "sql": _sql,
}


def open_backend(settings: Settings) -> Backend:
    return FACTORIES[settings.backend](settings)


__all__ = ["FACTORIES", "open_backend"]
