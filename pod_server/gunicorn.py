"""Running the app under gunicorn from ``pod-server serve`` (the ``wsgi.py`` entry does the same
for ``gunicorn wsgi:app``).

Metrics in multiprocess mode (see :mod:`pod_server.http.metrics`) need two master-side hooks: the
per-process files are wiped before the first worker starts (``on_starting``), and a worker's live
gauges are dropped when it exits (``child_exit``). With plain ``gunicorn wsgi:app`` use
:func:`hooks` from a ``gunicorn.conf.py``; without them, workers still drop the gauges of dead
processes when they start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from pod_server.config import Settings


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from pod_server import create_app

        return create_app(self.settings)


def hooks(settings: Settings) -> dict[str, Callable[..., None]]:
    """Gunicorn server hooks for ``settings``: keep the metrics folder true to the live workers."""
    directory = settings.multiprocess_metrics_dir if settings.metrics else None
    if directory is None:
        return {}

    def on_starting(_server: Any) -> None:
        from pod_server.http.metrics import wipe

        wipe(directory)

    def child_exit(_server: Any, worker: Any) -> None:
        from pod_server.http.metrics import mark_process_dead

        mark_process_dead(worker.pid, directory)

    return {"on_starting": on_starting, "child_exit": child_exit}


def run(settings: Settings, *, workers: int, threads: int) -> None:
    options: dict[str, Any] = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": None,
        "timeout": 60,
        "graceful_timeout": 10,
        **hooks(settings),
    }
    _Server(settings, options).run()


__all__ = ["hooks", "run"]
