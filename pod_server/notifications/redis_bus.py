"""The notification bus over Redis pub/sub: a change made in one worker (or machine) reaches the
dispatcher of every worker, the publisher's own included.

Two daemon threads per bus, each with its own connection:

- the **publisher** (``pod-server-bus-publish[<channel>]``) takes encoded messages from a bounded
  in-memory queue and sends them with ``PUBLISH``, one at a time and in order. ``publish`` only
  appends to that queue, so a writer never waits for Redis; when the queue is full the message is
  dropped and counted in :attr:`RedisBus.dropped`;
- the **listener** (``pod-server-bus-listen[<channel>]``) holds a ``SUBSCRIBE`` and hands each
  message to the handler.

Both reconnect with exponential backoff (capped at :data:`BACKOFF_CAP` seconds) while Redis is
unreachable. Delivery is at most once, as :class:`~pod_server.notifications.bus.Bus` requires:

- a message the publisher could not send stays at the head of the queue and is sent again after
  reconnecting, so order is kept; before each send an idle connection is checked for having been
  closed by the server (a Redis restart), so that case costs a reconnect, not a message;
- a message whose ``PUBLISH`` was sent but not acknowledged (the connection broke while waiting
  for the reply) may or may not have reached Redis; sending it again could deliver it twice, so it
  is dropped and counted instead;
- Redis pub/sub keeps nothing for a subscriber that is not connected: messages published while a
  listener is reconnecting are lost for that listener.

Logs name Redis by ``host:port`` only, never by its URL (which may hold a password).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pod_server.errors import BadRequest
from pod_server.notifications.bus import Handler
from pod_server.notifications.change import Message, decode, encode

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "pod-server:notifications"
BACKOFF_START = 0.05
"""Seconds before the first reconnection attempt; doubled after each failure."""
BACKOFF_CAP = 2.0
"""The longest wait between reconnection attempts, in seconds."""
SUBSCRIBE_WAIT = 2.0
"""How long :meth:`RedisBus.listen` waits for Redis to confirm the subscription, in seconds."""
CLOSE_WAIT = 1.0
"""How long :meth:`RedisBus.close` waits for the threads to end, in seconds (the first half of it
for the publisher to send what it still holds, when it is connected)."""
POLL = 0.1
"""How often, in seconds, the listener looks up from the socket to see whether it must stop."""
WARN_EVERY = 60.0
"""Repeated warnings (queue full, Redis unreachable, foreign messages) at most this often, in seconds."""


class _Throttle:
    """True at most once per ``interval`` seconds: keeps a repeating warning from flooding the log."""

    def __init__(self, interval: float = WARN_EVERY) -> None:
        self._interval = interval
        self._next = 0.0
        self._lock = threading.Lock()

    def ready(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                return False
            self._next = now + self._interval
            return True

    def reset(self) -> None:
        with self._lock:
            self._next = 0.0


def _address(client: redis.Redis) -> str:
    """Where ``client`` connects, without credentials: ``host:port`` or a Unix socket path."""
    try:
        kwargs = client.connection_pool.connection_kwargs
    except AttributeError:  # a cluster or test double: say nothing rather than guess
        return "redis"
    if "path" in kwargs:
        return str(kwargs["path"])
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


def _quietly(close: Callable[[], object]) -> None:
    try:
        close()
    except Exception:  # closing a broken connection may fail too; there is nothing left to do
        log.debug("closing a Redis connection failed", exc_info=True)


class RedisBus:
    """A :class:`~pod_server.notifications.bus.Bus` over Redis pub/sub on ``channel``.

    ``client_factory`` makes a new client; the bus makes one for the publisher and one per
    listener connection, and makes new ones to reconnect. Give clients short socket timeouts
    (:meth:`from_url` does), and preferably no retries of their own: the bus retries itself.
    """

    def __init__(
        self,
        client_factory: Callable[[], redis.Redis],
        *,
        channel: str = DEFAULT_CHANNEL,
        max_queue: int = 10_000,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.channel = channel
        self.max_queue = max_queue
        self.dropped: int = 0
        """Messages not sent: the queue was full, or the connection broke before Redis answered."""
        self._factory = client_factory
        self._queue: deque[bytes] = deque()
        self._cond = threading.Condition()
        self._closed = False  # no more messages taken; the publisher sends what it holds, then ends
        self._stop = threading.Event()  # both threads end now
        self._publisher: threading.Thread | None = None
        self._publisher_failing = False  # in backoff: Redis was unreachable at the last try
        self._listener: threading.Thread | None = None
        self._handler: Handler | None = None
        self._subscribed = threading.Event()
        self._drop_warning = _Throttle()
        self._foreign_warning = _Throttle()

    @classmethod
    def from_url(cls, url: str, *, channel: str = DEFAULT_CHANNEL, max_queue: int = 10_000) -> RedisBus:
        """A bus whose clients connect to ``url`` (``redis://[:password@]host:port/db``).

        A malformed URL raises ``ValueError`` here, at start-up; nothing connects yet."""
        factory = functools.partial(
            redis.Redis.from_url,
            url,
            socket_connect_timeout=1,
            socket_timeout=2,
            socket_keepalive=True,
            health_check_interval=30,  # PING idle connections, so a broken one fails and is replaced
            retry=Retry(NoBackoff(), 0),  # the bus retries with its own backoff, and never resends
        )
        factory().close()  # parses the URL; a client connects only when first used
        return cls(factory, channel=channel, max_queue=max_queue)

    @property
    def connected(self) -> bool:
        """Whether the listener currently holds a confirmed subscription (for diagnostics)."""
        return self._subscribed.is_set()

    # -- Bus ------------------------------------------------------------------------------------
    def publish(self, message: Message) -> None:
        """Queue ``message`` for the publisher thread; never blocks on the network, never raises."""
        try:
            data = encode(message)
            with self._cond:
                if self._closed:
                    return
                full = len(self._queue) >= self.max_queue
                if full:
                    self.dropped += 1
                    dropped = self.dropped
                else:
                    self._queue.append(data)
                    self._start_publisher()
                    self._cond.notify()
            if full and self._drop_warning.ready():
                log.warning(
                    "notification bus queue is full (%d messages waiting for Redis on channel %r); "
                    "%d message(s) dropped so far",
                    self.max_queue,
                    self.channel,
                    dropped,
                )
        except Exception:  # a write must never fail because of notifications
            log.exception("could not queue a notification message")

    def listen(self, handler: Handler) -> None:
        """Deliver every message on the channel to ``handler``, on the listener thread.

        Waits up to :data:`SUBSCRIBE_WAIT` seconds for the subscription to be confirmed, so that
        a message published after ``listen`` returns is heard; if Redis does not answer by then,
        logs a warning and returns: the listener keeps trying in the background.
        """
        with self._cond:
            if self._closed:
                return
            self._handler = handler
            if self._listener is None:
                self._listener = threading.Thread(
                    target=self._run_listener, name=f"pod-server-bus-listen[{self.channel}]", daemon=True
                )
                self._listener.start()
        if not self._subscribed.wait(SUBSCRIBE_WAIT):
            log.warning(
                "the notification bus is not yet subscribed to channel %r after %.1f s; "
                "notifications from other workers arrive once Redis is reachable",
                self.channel,
                SUBSCRIBE_WAIT,
            )

    def close(self) -> None:
        """Stop taking messages; give the publisher (unless Redis is known to be down) a moment to
        send what it holds; stop both threads (within :data:`CLOSE_WAIT` seconds), which close
        their connections."""
        deadline = time.monotonic() + CLOSE_WAIT
        with self._cond:
            already = self._closed
            self._closed = True
            self._cond.notify_all()
        if already and self._stop.is_set():
            return
        publisher = self._publisher
        if publisher is not None and publisher.is_alive() and not self._publisher_failing:
            publisher.join(CLOSE_WAIT / 2)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            self._queue.clear()
        for thread in (publisher, self._listener):
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
                if thread.is_alive():  # stuck in a connect; it ends, and closes its socket, after that
                    log.debug("%s did not end within %.1f s", thread.name, CLOSE_WAIT)

    # -- publisher thread ---------------------------------------------------------------------
    def _start_publisher(self) -> None:
        """Start the publisher if it is not running (first message, or after a fork). Holds ``_cond``."""
        if self._publisher is None or not self._publisher.is_alive():
            self._publisher = threading.Thread(
                target=self._run_publisher, name=f"pod-server-bus-publish[{self.channel}]", daemon=True
            )
            self._publisher.start()

    def _next(self) -> bytes | None:
        """The message at the head of the queue (left there until sent), or ``None`` to stop."""
        with self._cond:
            while not self._queue and not self._closed and not self._stop.is_set():
                self._cond.wait()
            if self._stop.is_set() or not self._queue:
                return None
            return self._queue[0]

    def _done(self, data: bytes) -> None:
        with self._cond:
            if self._queue and self._queue[0] is data:
                self._queue.popleft()

    def _run_publisher(self) -> None:
        client: redis.Redis | None = None
        conn: Any = None  # redis.connection.Connection; redis-py leaves its methods untyped
        delay = BACKOFF_START
        unreachable = _Throttle()
        where = "redis"
        try:
            while (data := self._next()) is not None:
                try:
                    if conn is not None and conn.can_read(timeout=0):
                        # An idle PUBLISH connection has nothing to read: the server closed it or
                        # sent something unexpected. Start afresh before sending anything.
                        raise redis.ConnectionError("the connection was closed by the server")
                    if conn is None:
                        client = self._factory()
                        where = _address(client)
                        conn = client.connection_pool.get_connection()
                        conn.connect()
                        if delay > BACKOFF_START:
                            log.info("notification bus: publishing to Redis at %s again", where)
                    conn.send_command("PUBLISH", self.channel, data)
                except Exception as exc:  # also a factory that fails (a bad URL): keep trying, quietly
                    # Nothing reached Redis (an incomplete command is never run): keep the message
                    # at the head of the queue and try again after a pause.
                    self._publisher_failing = True
                    if unreachable.ready():
                        log.warning(
                            "notification bus: cannot publish to Redis at %s (%s); retrying, %d held",
                            where,
                            exc,
                            len(self._queue),
                            exc_info=not isinstance(exc, redis.RedisError | OSError),
                        )
                    conn, client = self._release(client, conn)
                    if self._stop.wait(delay):
                        return
                    delay = min(delay * 2, BACKOFF_CAP)
                    continue
                try:
                    conn.read_response()
                except redis.ResponseError as exc:  # Redis refused the command: sending it again won't help
                    self._count_lost(f"Redis at {where} refused PUBLISH: {exc}")
                except (redis.RedisError, OSError) as exc:
                    # Sent but not acknowledged: it may have been delivered; at most once, so drop it.
                    self._count_lost(f"the connection to Redis at {where} broke during PUBLISH: {exc}")
                    conn, client = self._release(client, conn)
                else:
                    delay, self._publisher_failing = BACKOFF_START, False
                    unreachable.reset()
                self._done(data)
        except Exception:  # a bug here must not go unnoticed; the next publish starts a new thread
            log.exception("the notification bus publisher failed")
        finally:
            self._release(client, conn)

    def _count_lost(self, reason: str) -> None:
        with self._cond:
            self.dropped += 1
        log.warning("notification bus: a message was dropped: %s", reason)

    @staticmethod
    def _release(client: redis.Redis | None, conn: Any) -> tuple[None, None]:
        if conn is not None:
            _quietly(conn.disconnect)
        if client is not None:
            _quietly(client.close)
        return None, None

    # -- listener thread ----------------------------------------------------------------------
    def _run_listener(self) -> None:
        delay = BACKOFF_START
        unreachable = _Throttle()
        lost = False
        while not self._stop.is_set():
            client: redis.Redis | None = None
            pubsub: Any = None  # redis.client.PubSub, untyped in redis-py
            where = "redis"
            try:
                client = self._factory()
                where = _address(client)
                pubsub = client.pubsub()  # type: ignore[no-untyped-call]  # untyped in redis-py
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=POLL)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._subscribed.set()
                        if lost:
                            log.info("notification bus: subscribed to Redis at %s again", where)
                        delay, lost = BACKOFF_START, False
                        unreachable.reset()
                    elif message["type"] == "message":
                        self._deliver(message["data"])
            except Exception as exc:  # keep listening whatever happens (a handler's errors stay in _deliver)
                if unreachable.ready():
                    log.warning(
                        "notification bus: not subscribed to Redis at %s (%s); retrying",
                        where,
                        exc,
                        exc_info=not isinstance(exc, redis.RedisError | OSError),
                    )
            finally:
                lost = lost or self._subscribed.is_set()
                self._subscribed.clear()
                if pubsub is not None:
                    _quietly(pubsub.close)
                if client is not None:
                    _quietly(client.close)
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, BACKOFF_CAP)

    def _deliver(self, data: bytes | str) -> None:
        try:
            message = decode(data)
        except (BadRequest, RecursionError):  # another program shares the channel: skip what it sends
            if self._foreign_warning.ready():
                log.warning(
                    "notification bus: skipped a message on channel %r that is not a pod-server "
                    "notification (%d bytes)",
                    self.channel,
                    len(data),
                )
            return
        handler = self._handler
        if handler is None:
            return
        try:
            handler(message)
        except Exception:  # a failing handler must not stop the bus
            log.exception("notification handler failed")


__all__ = ["DEFAULT_CHANNEL", "RedisBus"]
