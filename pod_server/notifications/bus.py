"""The bus that brings every change to every worker's dispatcher.

:class:`LocalBus` is the in-process default; :class:`~pod_server.notifications.redis_bus.RedisBus`
carries messages through Redis pub/sub so that a subscriber connected to one worker (or machine)
hears a change made through another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from pod_server.notifications.change import Message

log = logging.getLogger(__name__)

Handler = Callable[[Message], None]


class Bus(Protocol):
    """Invariants:

    - ``publish`` never blocks on the network and never raises: it is called in a writer's thread,
      and a write must not wait for, or fail because of, notifications;
    - every message published on any connected bus reaches the handler of every listening bus
      (the publisher's own included) at most once, in publication order per publisher;
    - the handler is called on a bus thread, never in the publisher's; it must be quick (the
      dispatcher only queues);
    - ``close`` stops delivery and releases threads and connections; it is idempotent.
    """

    def publish(self, message: Message) -> None: ...

    def listen(self, handler: Handler) -> None:
        """Start delivering messages to ``handler`` (one handler per bus)."""
        ...

    def close(self) -> None: ...


class LocalBus:
    """One process: messages go straight to the handler, on a thread of the bus's own."""

    def __init__(self) -> None:
        self._handler: Handler | None = None
        self._queue: list[Message] = []
        self._ready = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def publish(self, message: Message) -> None:
        with self._ready:
            if self._closed or self._handler is None:
                return
            self._queue.append(message)
            if self._thread is None:  # started on first use: an idle app keeps no thread
                self._thread = threading.Thread(target=self._run, name="pod-server-bus", daemon=True)
                self._thread.start()
            self._ready.notify()

    def listen(self, handler: Handler) -> None:
        with self._ready:
            self._handler = handler

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                batch, self._queue = self._queue, []
                handler = self._handler
            for message in batch:
                try:
                    assert handler is not None
                    handler(message)
                except Exception:  # a failing handler must not stop the bus
                    log.exception("notification handler failed")


__all__ = ["Bus", "Handler", "LocalBus"]
