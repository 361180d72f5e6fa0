"""The hub: every live notification connection of one worker process, on one asyncio loop.

A WebSocket (``WebSocketChannel2023``, legacy solid-0.1) or a streaming HTTP response
(``StreamingHTTPChannel2023``) lives for hours and is idle nearly all that time. Holding a server
thread for each would cap a worker at its thread count, so the request thread hands the socket
over (:mod:`pod_server.http.handoff` writes the HTTP answer and takes the socket) and the hub
holds it from then on::

    request thread                         hub thread (asyncio loop, started on first use)
    accept_websocket(environ) -> sock
    hub.websocket(sock, ...)   -> Outlet   transport + wsproto Connection, pings, close handshake
    return Detached(outlet)                 ...
    any thread: outlet.send(text)  ----->  queued; written when the socket takes it

An idle connection costs its socket, its asyncio transport, a wsproto ``Connection`` and a
:class:`threading.Event`: a few KB, no thread and no task.

Rules the hub keeps:

- **Nothing blocks a sender.** :meth:`Outlet.send` appends to a per-connection outbox and wakes
  the loop once per batch (a broadcast to 10,000 outlets is one wake-up, not 10,000). A peer
  that does not read fills its transport's buffer; past ``max_buffer_bytes`` it is cut off
  (slow consumer) and its outbox dropped, so one stuck reader never costs the others memory.
- **Dead peers are found.** Every ``ping_interval`` the hub pings each WebSocket; one that has not
  answered (RFC 6455 §5.5.3, Pong) by the next round is aborted. Streams cannot carry pings
  without changing their content, so their sockets use TCP keep-alive at the same pace.
- **The hub thread survives callbacks.** ``on_text``/``on_close`` run on the hub thread (keep them
  quick); an exception in one is logged and the connection carries on.
- **Closing ends the TCP connection for real.** The socket the hub holds is a ``dup()`` of the
  server's; it is ``shutdown(SHUT_RDWR)`` before it is closed, so the peer sees the end even
  while the WSGI server still holds its own descriptor.

A connection refused because ``max_connections`` are open has already had its handshake
written (the hub only sees sockets after the HTTP answer): a WebSocket gets a Close frame with
code 1013 (Try Again Later, RFC 6455 §7.4.1 via the IANA registry), a stream is cut before its
final chunk, and :class:`~pod_server.errors.ServiceUnavailable` is raised. A view that checks
:attr:`Hub.full` before the handshake can answer a plain 503 instead.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any, Protocol

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, Pong, TextMessage
from wsproto.frame_protocol import CloseReason

from pod_server.errors import ServiceUnavailable

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1 << 16
"""The longest text message a client may send; longer ones close the socket with 1009
(Message Too Big, RFC 6455 §7.4.1). Clients only send short commands (solid-0.1 ``sub <url>``)."""

CLOSE_TIMEOUT = 2.0
"""Seconds to wait for the peer's Close frame after sending ours (RFC 6455 §7.1.1: the server
closes the TCP connection once the handshake is done); a silent peer is then cut off."""

ATTACH_TIMEOUT = 10.0
"""Seconds a request thread waits for the hub loop to take a new socket (normally microseconds)."""

TRY_AGAIN_LATER = 1013
"""WebSocket close code 1013 (IANA WebSocket Close Code Number Registry): server overloaded."""


class Outlet(Protocol):
    """A live connection notifications are written to. Every method is thread-safe and never blocks.

    ``closed`` is set once the connection is closed, whatever the reason (peer, server, slow
    consumer, dead peer, hub shutdown), after the socket has been shut down.
    """

    closed: threading.Event

    def send(self, text: str) -> None:
        """WebSocket: one text message; stream: one chunk (UTF-8, an empty text sends nothing).

        Queues the text. If more than ``max_buffer_bytes`` are unsent, the connection is closed
        instead (slow consumer); the caller is never blocked. A no-op once closed.
        """
        ...

    def close(self, code: int = 1000, reason: str = "") -> None:
        """WebSocket: the close handshake with ``code`` (1000-4999, else ValueError) and
        ``reason`` (cut to 123 bytes); stream: the final zero-length chunk, then close. Idempotent."""
        ...


class _Connection(asyncio.Protocol):
    """What WebSocket and stream connections share: the outbox, the transport, the end."""

    __slots__ = (
        "_ended",
        "_hub",
        "_on_close",
        "_outbox",
        "_outbox_chars",
        "_overflow",
        "_sock",
        "_transport",
        "closed",
    )

    def __init__(self, hub: Hub, sock: socket.socket, on_close: Callable[[Outlet], None] | None) -> None:
        self._hub = hub
        self._sock = sock
        self._on_close = on_close
        self._transport: asyncio.Transport | None = None
        # Written by send() callers under hub._lock; read and emptied on the loop.
        self._outbox: list[str] | None = None
        self._outbox_chars = 0
        self._overflow = False
        self._ended = False  # loop-side: the transport is closing or gone
        self.closed = threading.Event()

    # -- any thread ---------------------------------------------------------------------------

    def send(self, text: str) -> None:
        if not self.closed.is_set():
            self._hub._enqueue(self, text)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if not 1000 <= code <= 4999:
            # RFC 6455 §7.4.2: codes below 1000 are unused, 5000 and up do not exist.
            raise ValueError(f"{code} is not a WebSocket close code (1000-4999)")
        if not self.closed.is_set():
            self._hub._call_soon(self._close, code, reason)

    # -- hub thread ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        # The WSGI server may still hold its own descriptor of this TCP connection (it does until
        # the parked request thread returns): without a shutdown the peer would not see the end.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._hub._forget(self)
        self.closed.set()
        if self._on_close is not None:
            try:
                self._on_close(self)
            except Exception:
                log.exception("on_close callback failed")
        self._on_close = None

    def _write(self, data: bytes) -> None:
        if self._ended or not data or self._transport is None:
            return
        self._transport.write(data)
        # asyncio writes what the socket takes at once and buffers the rest: the buffer is what
        # the peer has not read yet (beyond the kernel's socket buffers).
        if self._transport.get_write_buffer_size() > self._hub.max_buffer_bytes:
            self._slow()

    def _write_texts(self, texts: list[str]) -> None:
        for text in texts:
            if self._ended:
                return
            self._write(self._frame(text))

    def _slow(self) -> None:
        log.info("closing a slow consumer: more than %d bytes unsent", self._hub.max_buffer_bytes)
        self._abort()

    def _abort(self) -> None:
        """Cut the connection now, dropping whatever is unsent; connection_lost follows (asyncio
        ignores a second abort, and an abort of a transport still flushing after close())."""
        self._ended = True
        if self._transport is not None:
            self._transport.abort()

    def _refuse(self, code: int) -> None:
        """Last words on a socket the hub will not hold (from a request thread), then its end."""
        with contextlib.suppress(OSError):
            self._sock.settimeout(1.0)
            self._sock.sendall(self._goodbye(code))
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self.closed.set()

    def _goodbye(self, code: int) -> bytes:
        raise NotImplementedError

    def _frame(self, text: str) -> bytes:
        raise NotImplementedError

    def _close(self, code: int, reason: str) -> None:
        raise NotImplementedError


class _WebSocket(_Connection):
    """A server-side RFC 6455 connection whose opening handshake is already done."""

    __slots__ = ("_awaiting_pong", "_close_timer", "_on_text", "_parts", "_parts_chars", "_ws")

    def __init__(
        self,
        hub: Hub,
        sock: socket.socket,
        on_text: Callable[[Outlet, str], None] | None,
        on_close: Callable[[Outlet], None] | None,
    ) -> None:
        super().__init__(hub, sock, on_close)
        self._ws = Connection(ConnectionType.SERVER)
        self._on_text = on_text
        self._parts: list[str] = []
        self._parts_chars = 0
        self._awaiting_pong = False
        self._close_timer: asyncio.TimerHandle | None = None

    def _goodbye(self, code: int) -> bytes:
        reason = "server busy, try again later" if code == TRY_AGAIN_LATER else "server unavailable"
        return self._ws.send(CloseConnection(code=code, reason=reason))

    def _frame(self, text: str) -> bytes:
        if self._ws.state is not ConnectionState.OPEN:
            return b""  # closing: RFC 6455 §5.5.1, no data frames after a Close frame
        return self._ws.send(Message(data=text))

    def data_received(self, data: bytes) -> None:
        if self._ended or self._ws.state is ConnectionState.CLOSED:
            return
        self._ws.receive_data(data)
        for event in self._ws.events():
            if self._ended:
                return
            if isinstance(event, TextMessage):
                self._text(event)
            elif isinstance(event, BytesMessage):
                self._fail(CloseReason.UNSUPPORTED_DATA, "this socket takes text messages only")
            elif isinstance(event, Ping):
                self._write(self._ws.send(event.response()))  # RFC 6455 §5.5.2
            elif isinstance(event, Pong):
                self._awaiting_pong = False
            elif isinstance(event, CloseConnection):
                self._peer_closed(event)

    def _text(self, event: TextMessage) -> None:
        self._parts.append(event.data)
        self._parts_chars += len(event.data)
        if self._parts_chars > MAX_MESSAGE_CHARS:
            self._fail(CloseReason.MESSAGE_TOO_BIG, f"messages are limited to {MAX_MESSAGE_CHARS} characters")
            return
        if not event.message_finished:
            return
        text = "".join(self._parts)
        self._parts = []
        self._parts_chars = 0
        if self._on_text is None or self._ws.state is not ConnectionState.OPEN:
            return
        try:
            self._on_text(self, text)
        except Exception:
            log.exception("on_text callback failed")

    def _peer_closed(self, event: CloseConnection) -> None:
        state = self._ws.state
        if state is ConnectionState.REMOTE_CLOSING:
            # RFC 6455 §5.5.1: answer the peer's Close with one of ours (echoing its code), then
            # §7.1.1: the server closes the TCP connection first.
            self._write(self._ws.send(event.response()))
        elif state is ConnectionState.OPEN:
            # wsproto reports a frame it could not parse as a CloseConnection without changing
            # state (RFC 6455 §7.1.7, Fail the WebSocket Connection): tell the peer why and go.
            self._write(self._ws.send(CloseConnection(code=event.code, reason=event.reason)))
        # LOCAL_CLOSING -> CLOSED: the peer answered our Close; nothing more to send.
        self._finish()

    def _fail(self, code: int, reason: str) -> None:
        if self._ws.state is ConnectionState.OPEN:
            self._write(self._ws.send(CloseConnection(code=code, reason=reason)))
        self._finish()

    def _finish(self) -> None:
        """Close the TCP connection once what is buffered has been written."""
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if not self._ended and self._transport is not None:
            self._ended = True
            self._transport.close()
            # A peer that never reads would keep a flushing transport open forever.
            self._close_timer = self._hub._call_later(self._hub.close_timeout, self._abort)

    def eof_received(self) -> bool:
        # The peer half-closed without a Close frame (RFC 6455 §7.1.5: code 1006): we are done.
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        super().connection_lost(exc)

    def _close(self, code: int, reason: str) -> None:
        if self._ended or self._ws.state is not ConnectionState.OPEN:
            return
        self._write(self._ws.send(CloseConnection(code=code, reason=reason)))
        if not self._ended:
            # RFC 6455 §7.1.1: wait (briefly) for the peer's Close, then close TCP ourselves.
            self._close_timer = self._hub._call_later(self._hub.close_timeout, self._finish)

    def _ping(self) -> None:
        """One heartbeat round: a peer that has not answered the previous ping is dead."""
        if self._ended or self._ws.state is not ConnectionState.OPEN:
            return
        if self._awaiting_pong:
            log.info("closing a WebSocket whose peer did not answer a ping")
            self._abort()
            return
        self._awaiting_pong = True
        self._write(self._ws.send(Ping()))


class _Stream(_Connection):
    """An HTTP/1.1 response with ``Transfer-Encoding: chunked`` whose head is already written."""

    __slots__ = ()

    def _goodbye(self, code: int) -> bytes:
        return b""  # no final chunk: the client sees the response cut short, not a finished one

    def _frame(self, text: str) -> bytes:
        # RFC 9112 §7.1: chunk-size in hex, CRLF, data, CRLF. An empty chunk would end the body.
        data = text.encode("utf-8")
        return b"%x\r\n%b\r\n" % (len(data), data) if data else b""

    def data_received(self, data: bytes) -> None:
        pass  # a streaming client sends nothing we act on; it is read only to notice the end

    def eof_received(self) -> bool:
        return False  # the client went away: close (connection_lost follows)

    def _close(self, code: int, reason: str) -> None:
        if self._ended:
            return
        self._write(b"0\r\n\r\n")  # RFC 9112 §7.1: the last chunk, no trailers
        if not self._ended and self._transport is not None:
            self._ended = True
            self._transport.close()
            self._hub._call_later(self._hub.close_timeout, self._abort)


def _keepalive(sock: socket.socket, seconds: float) -> None:
    """TCP keep-alive probing after ``seconds`` idle: a vanished stream reader gets noticed."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        idle = max(1, int(seconds))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, idle)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)


def _run(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()


class Hub:
    """One per process: an asyncio loop on a daemon thread, started lazily on first use (so it is
    created after gunicorn forks). ``close()`` ends every connection (WebSocket code 1001) and
    the loop; it also runs at interpreter exit once the loop has started."""

    def __init__(
        self,
        *,
        max_buffer_bytes: int = 1 << 20,
        ping_interval: float = 30.0,
        max_connections: int = 10_000,
        close_timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        self.max_buffer_bytes = max_buffer_bytes
        self.ping_interval = ping_interval
        self.max_connections = max_connections
        self.close_timeout = close_timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closing = False
        self._conns: set[_Connection] = set()
        self._dirty: list[_Connection] = []  # connections whose outbox has text (under _lock)
        self._wake_pending = False  # a _flush is scheduled (under _lock)
        self._ticker: asyncio.TimerHandle | None = None
        self._emptied: asyncio.Event | None = None  # set when _conns empties during close()

    # -- public -------------------------------------------------------------------------------

    def websocket(
        self,
        sock: socket.socket,
        *,
        on_text: Callable[[Outlet, str], None] | None = None,
        on_close: Callable[[Outlet], None] | None = None,
    ) -> Outlet:
        """Hold ``sock``, on which the HTTP 101 answer has already been written, as a WebSocket.

        ``on_text(outlet, text)`` runs on the hub thread for each text message received;
        ``on_close(outlet)`` once when the connection ends. Raises ServiceUnavailable (after
        closing ``sock`` with code 1013) when ``max_connections`` are open or the hub is closed.
        """
        conn = _WebSocket(self, sock, on_text, on_close)
        self._hold(conn)
        return conn

    def stream(self, sock: socket.socket, *, on_close: Callable[[Outlet], None] | None = None) -> Outlet:
        """Hold ``sock``, on which a chunked HTTP/1.1 response head has already been written.

        ``send()`` writes one chunk; the client going away (EOF or reset) closes the outlet.
        Raises ServiceUnavailable (after cutting the response short) when ``max_connections``
        are open or the hub is closed.
        """
        _keepalive(sock, self.ping_interval)
        conn = _Stream(self, sock, on_close)
        self._hold(conn)
        return conn

    @property
    def full(self) -> bool:
        """True when a new connection would be refused: check it before the handshake to answer 503."""
        with self._lock:
            return self._closing or len(self._conns) >= self.max_connections

    def close(self) -> None:
        """Close all connections (WebSocket code 1001, Going Away) and stop the loop. Idempotent."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            loop, thread = self._loop, self._thread
            mine = self._pid == os.getpid()
        atexit.unregister(self.close)
        if loop is None or thread is None or not mine:
            return
        if threading.current_thread() is thread:
            # Called from a callback on the hub thread, which cannot wait for itself.
            loop.create_task(self._shutdown(stop=True))
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(stop=False), loop)
        try:
            future.result(2 * self.close_timeout + 5)
        except Exception:
            log.exception("closing the notification hub failed")
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    def __len__(self) -> int:
        """Open connections."""
        with self._lock:
            return len(self._conns)

    # -- request threads ------------------------------------------------------------------------

    def _start(self) -> asyncio.AbstractEventLoop:
        """The running loop, started on first use (under ``_lock``)."""
        if self._loop is None or self._pid != os.getpid():
            # A fork copies neither the thread nor its connections: start afresh.
            self._conns = set()
            self._dirty = []
            self._wake_pending = False
            loop = asyncio.new_event_loop()
            loop.set_exception_handler(_log_loop_error)
            thread = threading.Thread(target=_run, args=(loop,), name="pod-server-hub", daemon=True)
            self._loop, self._thread, self._pid = loop, thread, os.getpid()
            thread.start()
            if self.ping_interval > 0:
                loop.call_soon_threadsafe(self._schedule_tick)
            atexit.register(self.close)
        return self._loop

    def _hold(self, conn: _Connection) -> None:
        with self._lock:
            if self._closing:
                refusal = "the server is shutting down; connect again"
            elif len(self._conns) >= self.max_connections:
                refusal = (
                    f"the server holds as many live connections as it can ({self.max_connections}); "
                    "try again later"
                )
            elif self._thread is not None and threading.current_thread() is self._thread:
                raise RuntimeError("hand sockets to the hub from a request thread, not from a hub callback")
            else:
                refusal = ""
                loop = self._start()
                self._conns.add(conn)
        if refusal:
            conn._refuse(TRY_AGAIN_LATER if not self._closing else CloseReason.GOING_AWAY)
            raise ServiceUnavailable(refusal, headers={"Retry-After": "10"})
        try:
            asyncio.run_coroutine_threadsafe(self._attach(conn), loop).result(ATTACH_TIMEOUT)
        except Exception as exc:
            self._forget(conn)
            conn._refuse(CloseReason.INTERNAL_ERROR)
            log.warning("the notification hub could not take a connection: %r", exc)
            raise ServiceUnavailable("the server could not hold this connection; try again") from None

    def _enqueue(self, conn: _Connection, text: str) -> None:
        wake = False
        with self._lock:
            if conn._overflow:
                return
            if conn._outbox is None:
                conn._outbox = [text]
                conn._outbox_chars = len(text)
                self._dirty.append(conn)
                wake = not self._wake_pending
                self._wake_pending = True
            else:
                conn._outbox.append(text)
                conn._outbox_chars += len(text)
            if conn._outbox_chars > self.max_buffer_bytes:
                # The loop has not caught up with this outlet: cut it off at the next flush.
                # (The transport's own buffer is checked on the loop after every write.)
                conn._overflow = True
                conn._outbox = []
        if wake:
            self._call_soon(self._flush)

    def _call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the connection is gone too
            loop.call_soon_threadsafe(callback, *args)

    # -- hub thread ---------------------------------------------------------------------------

    async def _attach(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        await loop.connect_accepted_socket(lambda: conn, conn._sock)

    def _call_later(self, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle | None:
        loop = self._loop
        return None if loop is None else loop.call_later(delay, callback)

    def _flush(self) -> None:
        with self._lock:
            dirty, self._dirty = self._dirty, []
            self._wake_pending = False
            batches = []
            for conn in dirty:
                batches.append((conn, conn._outbox or [], conn._overflow))
                conn._outbox = None
                conn._outbox_chars = 0
        for conn, texts, overflow in batches:
            if overflow:
                conn._slow()
            else:
                conn._write_texts(texts)

    def _forget(self, conn: _Connection) -> None:
        with self._lock:
            self._conns.discard(conn)
            empty = not self._conns
        if empty and self._emptied is not None:
            self._emptied.set()

    def _schedule_tick(self) -> None:
        if self._loop is not None and not self._closing:
            self._ticker = self._loop.call_later(self.ping_interval, self._tick)

    def _tick(self) -> None:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            if isinstance(conn, _WebSocket):
                conn._ping()
        self._schedule_tick()

    async def _shutdown(self, *, stop: bool) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        self._flush()
        self._emptied = asyncio.Event()
        with self._lock:
            conns = list(self._conns)
            if not conns:
                self._emptied.set()
        for conn in conns:
            conn._close(CloseReason.GOING_AWAY, "server shutting down")
        # Each close waits at most close_timeout for the peer's Close, then close_timeout for
        # the flush: whatever is still there after that is cut.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._emptied.wait(), 2 * self.close_timeout + 0.5)
        with self._lock:
            stuck = list(self._conns)
        for conn in stuck:
            conn._abort()
        for _ in range(10):  # connection_lost runs on the next turns of the loop
            if not self._conns:
                break
            await asyncio.sleep(0)
        if stop:
            asyncio.get_running_loop().stop()


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    log.error("notification hub: %s", context.get("message", "error"), exc_info=exc)


__all__ = ["Hub", "Outlet"]
