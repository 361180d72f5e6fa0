"""The bus between the worker processes of one machine, without any other service.

Each process binds a Unix datagram socket in a shared folder (``{data_dir}/run/bus/``); publishing
sends the message to every socket there, its own included. Unix datagram sockets keep order per
sender and lose nothing while the receiver keeps up; a receiver whose queue stays full for a
quarter of a second misses that message (counted in ``dropped``). Writers never wait: they only
queue for the sending thread. Sockets of processes that are gone
refuse the send and are removed.

This is the default for ``pod-server serve`` (several workers, one machine). Several machines
need :class:`~pod_server.notifications.redis_bus.RedisBus`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import secrets
import socket
import threading
from pathlib import Path

from pod_server.errors import BadRequest
from pod_server.notifications.bus import Handler
from pod_server.notifications.change import Message, decode, encode

log = logging.getLogger(__name__)

_MAX_DATAGRAM = 64 * 1024
_SUFFIX = ".sock"
_SEND_WAIT = 0.25
"""Seconds the sending thread waits for room in a sibling's queue before dropping the message."""


class SiblingBus:
    """Invariants as :class:`~pod_server.notifications.bus.Bus`; see the module docstring."""

    def __init__(self, folder: Path, *, max_queue: int = 10_000) -> None:
        self.folder = folder
        self.max_queue = max_queue
        self.dropped = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(max_queue)
        self._handler: Handler | None = None
        self._sock: socket.socket | None = None
        self._path: Path | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._closed = False
        self._peers: list[str] = []
        self._peers_read = 0
        self._sender: socket.socket | None = None

    # -- Bus ----------------------------------------------------------------------------------
    def publish(self, message: Message) -> None:
        if self._closed:
            return
        self._start()
        try:
            self._queue.put_nowait(encode(message))
        except queue.Full:
            self.dropped += 1

    def listen(self, handler: Handler) -> None:
        self._handler = handler
        self._start()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            sock, path, sender = self._sock, self._path, self._sender
        self._queue.put(None)
        if sender is not None:
            sender.close()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()

    # -- threads ------------------------------------------------------------------------------
    def _start(self) -> None:
        """Bind and start the threads once per process (after a fork, again in the child)."""
        if self._pid == os.getpid() or self._closed:
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{os.getpid()}-{secrets.token_hex(4)}{_SUFFIX}"
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(str(path))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            # A receiver's queue holds few datagrams (net.unix.max_dgram_qlen): wait a little for
            # room, on this bus thread only; a worker that stays stuck misses the message.
            sender.settimeout(_SEND_WAIT)
            self._sock, self._path, self._sender, self._pid = sock, path, sender, os.getpid()
            self._peers_read = 0
            threading.Thread(
                target=self._receive, args=(sock,), name="pod-server-bus-recv", daemon=True
            ).start()
            threading.Thread(target=self._send, name="pod-server-bus-send", daemon=True).start()

    def _receive(self, sock: socket.socket) -> None:
        while not self._closed:
            try:
                data = sock.recv(_MAX_DATAGRAM)
            except OSError:
                return
            if not data:
                if self._closed:
                    return
                continue
            handler = self._handler
            if handler is None:
                continue
            try:
                handler(decode(data))
            except BadRequest:
                log.warning("a message on the worker bus was not ours; skipped")
            except Exception:
                log.exception("notification handler failed")

    def _send(self) -> None:
        while True:
            data = self._queue.get()
            if data is None or self._closed:
                return
            for peer in self._current_peers():
                self._send_one(peer, data)

    def _current_peers(self) -> list[str]:
        # The folder's mtime changes whenever a worker binds or a dead socket is removed: one stat
        # per message keeps the list exact, a listing only when it changed.
        try:
            stamp = self.folder.stat().st_mtime_ns
        except OSError:
            return [str(self._path)] if self._path else []
        if stamp != self._peers_read:
            try:
                self._peers = [str(p) for p in self.folder.iterdir() if p.name.endswith(_SUFFIX)]
            except OSError:
                self._peers = [str(self._path)] if self._path else []
            self._peers_read = stamp
        return self._peers

    def _send_one(self, peer: str, data: bytes) -> None:
        sender = self._sender
        assert sender is not None
        try:
            sender.sendto(data, peer)
        except (ConnectionRefusedError, FileNotFoundError):
            # A worker that has gone: its socket file is left behind. Remove it.
            with contextlib.suppress(OSError):
                os.unlink(peer)
            self._peers_read = 0
        except (BlockingIOError, TimeoutError):
            self.dropped += 1  # that worker is not keeping up: it misses this one
        except OSError as e:
            if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                log.warning("worker bus: could not send to a sibling (%s)", e.strerror)
            self.dropped += 1


__all__ = ["SiblingBus"]
