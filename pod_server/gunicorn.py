"""Running the app under gunicorn from ``pod-server serve`` (the ``wsgi.py`` entry does the same
for ``gunicorn wsgi:app``).

Metrics in multiprocess mode (see :mod:`pod_server.http.metrics`) need two master-side hooks: the
per-process files are wiped before the first worker starts (``on_starting``), and a worker's live
gauges are dropped when it exits (``child_exit``). With plain ``gunicorn wsgi:app`` use
:func:`hooks` from a ``gunicorn.conf.py``; without them, workers still drop the gauges of dead
processes when they start.

Live notification connections (WebSocket, streaming HTTP) outlast their request by hours: the
view hands the socket to the notification hub (:mod:`pod_server.http.handoff`) and the
:class:`Worker` here lets go of the connection without closing it, so it holds no thread. Plain
``-k gthread`` works too, but parks one thread per live connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from pod_server.config import Settings
from pod_server.http import handoff

_HANDED_OFF = object()
"""What Worker.handle returns for a connection the notification hub now holds."""


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


class Worker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, able to forget a connection handed to the notification hub.

    Relies on gunicorn 27's ``ThreadWorker``: ``handle(conn)`` runs a request in a pool thread
    and returns whether to keep the connection; it takes a StopIteration from the app (which
    :class:`~pod_server.http.handoff.Detached` raises) as "close, nothing to write". Its result
    reaches ``finish_request(conn, future)`` on the main thread, which would close the
    connection with ``close_graceful``: ``shutdown(SHUT_WR)`` (a FIN to the hub's client) and a
    read drain (eating its frames). For a handed-off connection it only drops the worker's own
    descriptor: the hub holds a ``dup()`` of it. The connection leaves ``nr_conns`` too, so it
    does not count against ``worker_connections``.
    """

    def init_process(self) -> None:
        handoff.enable_detach()
        super().init_process()  # runs the worker until it stops

    def handle(self, conn: Any) -> Any:
        kept = super().handle(conn)
        return _HANDED_OFF if handoff.release(conn.sock) else kept

    def finish_request(self, conn: Any, fs: Any) -> None:
        if not fs.cancelled() and fs.exception() is None and fs.result() is _HANDED_OFF:
            self.nr_conns -= 1
            util.close(conn.sock)  # plain close(): no shutdown, no drain
            return
        super().finish_request(conn, fs)


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
        "worker_class": "pod_server.gunicorn.Worker",
        "accesslog": None,
        "timeout": 60,
        "graceful_timeout": 10,
        **hooks(settings),
    }
    _Server(settings, options).run()


__all__ = ["Worker", "hooks", "run"]
