"""A tiny Flask app over a notification hub, for the hub and handoff tests.

Routes:

- ``GET /ws?protocols=a,b``: a WebSocket (``accept_websocket`` + ``hub.websocket``) that echoes
  each text message, except ``close <code> <reason>``, which makes the server close with that code;
- ``GET /stream``: a chunked ``text/plain`` stream (``start_stream`` + ``hub.stream``);
- ``POST /broadcast``: sends the body to every open outlet, answers how many;
- ``GET /stats``: ``len(hub)``, the process's threads and open file descriptors;
- ``GET /hello``: an ordinary request.

Served in-process by werkzeug (:func:`serve_threaded`) or by gunicorn in a subprocess
(:func:`gunicorn_command`, which imports :func:`create` with settings from ``HUB_*`` variables).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import websocket
from flask import Flask, Response, request
from werkzeug.serving import make_server

from pod_server.errors import PodError
from pod_server.http.handoff import Detached, accept_websocket, start_stream
from pod_server.notifications.hub import Hub, Outlet
from tests import live


@dataclass
class Record:
    """What the app saw, for tests running it in-process."""

    hub: Hub
    outlets: list[Outlet] = field(default_factory=list)
    protocols: list[str | None] = field(default_factory=list)
    ended: list[Outlet] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open_outlets(self) -> list[Outlet]:
        with self.lock:
            return [o for o in self.outlets if not o.closed.is_set()]

    def on_close(self, outlet: Outlet) -> None:
        with self.lock:
            self.ended.append(outlet)


def make_app(hub: Hub) -> tuple[Flask, Record]:
    app = Flask(__name__)
    record = Record(hub)

    @app.errorhandler(PodError)
    def pod_error(exc: PodError) -> Response:
        return Response(exc.detail, status=exc.status, headers=exc.headers, content_type="text/plain")

    def on_text(outlet: Outlet, text: str) -> None:
        if text.startswith("close "):
            _, code, reason = text.split(" ", 2)
            outlet.close(int(code), reason)
        elif text == "boom":
            raise RuntimeError("a callback that fails must not stop the hub")
        else:
            outlet.send(text)

    # werkzeug routes a request with "Connection: Upgrade" and "Upgrade: websocket" to rules
    # declared websocket=True only; the plain rule lets a non-upgrade GET reach accept_websocket.
    @app.route("/ws", websocket=True)
    @app.route("/ws")
    def websocket() -> Response:
        wanted = [p for p in request.args.get("protocols", "").split(",") if p]
        sock, chosen = accept_websocket(request.environ, subprotocols=wanted)
        outlet = hub.websocket(sock, on_text=on_text, on_close=record.on_close)
        with record.lock:
            record.outlets.append(outlet)
            record.protocols.append(chosen)
        return Detached(outlet)

    @app.get("/stream")
    def stream() -> Response:
        sock = start_stream(request.environ, 200, [("Content-Type", "text/plain; charset=utf-8")])
        outlet = hub.stream(sock, on_close=record.on_close)
        with record.lock:
            record.outlets.append(outlet)
        return Detached(outlet)

    @app.post("/broadcast")
    def broadcast() -> Response:
        text = request.get_data(as_text=True)
        outlets = record.open_outlets()
        for outlet in outlets:
            outlet.send(text)
        return Response(str(len(outlets)), content_type="text/plain")

    @app.get("/stats")
    def stats() -> Response:
        return Response(
            json.dumps(
                {
                    "connections": len(hub),
                    "threads": threading.active_count(),
                    "fds": len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None,
                }
            ),
            content_type="application/json",
        )

    @app.get("/hello")
    def hello() -> Response:
        return Response("hello", content_type="text/plain")

    return app, record


def create() -> Flask:
    """The gunicorn entry (``tests.notifications.hub_app:create()``)."""
    hub = Hub(
        ping_interval=float(os.environ.get("HUB_PING_INTERVAL", "30")),
        max_buffer_bytes=int(os.environ.get("HUB_MAX_BUFFER_BYTES", str(1 << 20))),
        max_connections=int(os.environ.get("HUB_MAX_CONNECTIONS", "10000")),
    )
    return make_app(hub)[0]


def gunicorn_command(port: int, *, worker: str = "pod_server.gunicorn.Worker", threads: int = 4) -> list[str]:
    """One gunicorn worker process with ``threads`` threads, serving :func:`create` (cwd=REPO)."""
    return live.gunicorn_command(
        port, workers=1, threads=threads, worker_class=worker, app="tests.notifications.hub_app:create()"
    )


@contextlib.contextmanager
def serve_threaded(app: Flask, hub: Hub) -> Iterator[str]:
    """``app`` on werkzeug's threaded server at 127.0.0.1 (park mode); yields its base URL.
    On the way out the hub is closed first: that releases the parked request threads."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="werkzeug-test-server", daemon=True
    )
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        hub.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


def raw_handshake(address: str, path: str = "/ws", *, rcvbuf: int | None = None) -> socket.socket:
    """A bare TCP client that did a WebSocket opening handshake and reads nothing more."""
    host, port = address.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: sets the window
    sock.settimeout(5)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # byte by byte: leave every frame after the head unread
        if not chunk:
            raise ConnectionError(f"no handshake answer, got {head!r}")
        head += chunk
    assert head.startswith(b"HTTP/1.1 101 "), head
    return sock


def close_frame(ws: Any) -> tuple[int, str]:
    """Read a websocket-client connection until the server's Close frame: (code, reason).
    websocket-client answers the Close; its socket is then closed here (its close() would not)."""
    while True:
        opcode, frame = ws.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            ws.shutdown()
            data = bytes(frame.data)
            return (int.from_bytes(data[:2], "big"), data[2:].decode()) if data else (1005, "")


@contextlib.contextmanager
def no_new_threads(timeout: float = 5.0) -> Iterator[None]:
    """Fails if threads started inside the block (hub loops, parked request threads) outlive it."""
    before = set(threading.enumerate())
    yield
    assert wait_for(lambda: not (set(threading.enumerate()) - before), timeout), (
        f"threads left behind: {set(threading.enumerate()) - before}"
    )


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; its last value."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
