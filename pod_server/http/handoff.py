"""Taking a connection away from the WSGI server: the one place that touches its raw socket.

WSGI has no way to say "this response lasts for hours". A WebSocket or a streaming HTTP
response therefore leaves WSGI: the view writes the HTTP answer itself, straight on the socket
the server put in the environ (``gunicorn.socket``, ``werkzeug.socket``), hands a ``dup()`` of
that socket to the notification hub (:mod:`pod_server.notifications.hub`) and returns
:class:`Detached`. What the server does next depends on whether it can forget a connection:

- **detach** (gunicorn with :class:`pod_server.gunicorn.Worker`): ``Detached`` ends the request at
  once without a byte written; the worker drops its own descriptor without touching the TCP
  connection, and the thread serves other requests;
- **park** (werkzeug's threaded server in tests and development, plain gunicorn workers): the
  request thread waits until the hub has closed the connection, then leaves as if the client had
  gone away. Correct, but one thread per connection.

Limits: TLS sockets and HTTP/2 connections cannot be handed over (the hub speaks plain TCP and
owns the whole connection): terminate TLS at a proxy. Bytes a client pipelined behind the
request are not passed on (a WebSocket client waits for the 101 before it sends).

Flask hooks (``after_request``: CORS, request id) run on the ``Detached`` response but nothing
of it is written: the HTTP head was written earlier, so give :func:`start_stream` every header.
In park mode the request (its access-log duration, the in-flight gauge) lasts as long as the
connection.

Routing: werkzeug sends a request carrying ``Connection: Upgrade`` and ``Upgrade: websocket`` only
to rules declared with ``websocket=True`` (any other rule answers 400), so a WebSocket endpoint
needs ``@bp.route(path, websocket=True)`` (plus a plain rule on the same path if a non-upgrade
GET should get :func:`accept_websocket`'s explanation).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import http
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import flask
from wsproto.utilities import generate_accept_token

from pod_server.errors import BadRequest, ServiceUnavailable
from pod_server.notifications.hub import Outlet

WEBSOCKET_VERSION = "13"
"""RFC 6455 §4.1: the only protocol version; §4.2.2 point 4: named on a refusal of any other."""

ENVIRON_KEY = "pod_server.handoff"
"""Set in the environ (to the status written) once the socket has been taken."""

# Hop-by-hop and framing fields start_stream writes itself (RFC 9112 §6.1, §9.6; RFC 9110 §7.6.1).
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

_detaching = False
_claims: set[int] = set()  # id() of gunicorn sockets taken during a request (detach mode only)
_claims_lock = threading.Lock()


def enable_detach() -> None:
    """Called by :class:`pod_server.gunicorn.Worker` as a worker starts: gunicorn can forget
    a connection in this process, so ``Detached`` need not hold its thread."""
    global _detaching
    _detaching = True


def release(server_socket: object) -> bool:
    """For :class:`pod_server.gunicorn.Worker` after a request: was this socket handed off?
    Answers each claim once. (The socket object is alive while asked, so its ``id`` is unique.)"""
    with _claims_lock:
        if id(server_socket) in _claims:
            _claims.discard(id(server_socket))
            return True
        return False


def _raw_socket(environ: dict[str, Any]) -> socket.socket:
    raw = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(raw, socket.socket):
        raise ServiceUnavailable("this server cannot hold WebSocket connections")
    if isinstance(raw, ssl.SSLSocket):
        raise ServiceUnavailable(
            "live connections need plain HTTP to this server: terminate TLS at a proxy in front of it"
        )
    if environ.get("HTTP_VERSION") == "2" or str(environ.get("SERVER_PROTOCOL", "")).startswith("HTTP/2"):
        raise ServiceUnavailable("live connections need HTTP/1.1; this request came over HTTP/2")
    if ENVIRON_KEY in environ:
        raise RuntimeError("this request's connection was handed off already")
    return raw


def _take(environ: dict[str, Any], raw: socket.socket, status: int) -> socket.socket:
    """The hub's own descriptor of the connection; the server's is left for the server to drop."""
    mine = raw.dup()
    environ[ENVIRON_KEY] = status
    if _detaching and environ.get("gunicorn.socket") is raw:
        with _claims_lock:
            _claims.add(id(raw))
    return mine


def _tokens(value: str) -> list[str]:
    """A comma-separated header value (several header lines arrive joined by commas)."""
    return [token.strip() for token in value.split(",") if token.strip()]


def _check_upgrade(environ: dict[str, Any]) -> bytes:
    """RFC 6455 §4.2.1: the client's opening handshake. Returns the Sec-WebSocket-Key."""
    if environ.get("REQUEST_METHOD") != "GET":
        raise BadRequest("a WebSocket opening handshake is a GET request (RFC 6455 §4.2.1)")
    if environ.get("SERVER_PROTOCOL") not in ("HTTP/1.1", None):
        raise BadRequest("a WebSocket opening handshake needs HTTP/1.1 (RFC 6455 §4.2.1)")
    if "websocket" not in (t.lower() for t in _tokens(environ.get("HTTP_UPGRADE", ""))):
        raise BadRequest("this address takes WebSocket connections: send Upgrade: websocket")
    if "upgrade" not in (t.lower() for t in _tokens(environ.get("HTTP_CONNECTION", ""))):
        raise BadRequest("a WebSocket opening handshake needs Connection: Upgrade (RFC 6455 §4.2.1)")
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise BadRequest("send Sec-WebSocket-Key: 16 random bytes in base64 (RFC 6455 §4.2.1 point 5)")
    version = environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").strip()
    if version != WEBSOCKET_VERSION:
        # RFC 6455 §4.2.2 point 4: an error status and the versions the server understands.
        raise BadRequest(
            f"this server speaks WebSocket version {WEBSOCKET_VERSION} only: send Sec-WebSocket-Version: 13",
            headers={"Sec-WebSocket-Version": WEBSOCKET_VERSION},
        )
    return str(key).encode("ascii")


def _choose(offered: list[str], subprotocols: Sequence[str]) -> str | None:
    """RFC 6455 §4.2.2 point 5.4 (sub)protocol selection: the client's order decides."""
    if not subprotocols:
        return None
    for name in offered:
        if name in subprotocols:
            return name
    raise BadRequest(f"send Sec-WebSocket-Protocol with one of: {', '.join(subprotocols)}")


def accept_websocket(
    environ: dict[str, Any], *, subprotocols: Sequence[str] = ()
) -> tuple[socket.socket, str | None]:
    """Answer a WebSocket opening handshake with ``101 Switching Protocols`` and take the socket.

    Checks the request (RFC 6455 §4.2.1): GET over HTTP/1.1, ``Upgrade: websocket``,
    ``Connection`` naming ``upgrade``, a ``Sec-WebSocket-Key`` of 16 base64 bytes and
    ``Sec-WebSocket-Version: 13``; a bad handshake raises BadRequest (a wrong version carries
    ``Sec-WebSocket-Version: 13``). When ``subprotocols`` is non-empty, the first value of the
    client's ``Sec-WebSocket-Protocol`` found in it is chosen, and a client offering none of them
    gets BadRequest; when it is empty, the answer names no subprotocol whatever was offered.
    Raises ServiceUnavailable when the server exposes no raw socket (or TLS, or HTTP/2).

    Returns the hub's socket (the 101 is written; WebSocket frames follow) and the subprotocol.
    """
    raw = _raw_socket(environ)
    key = _check_upgrade(environ)
    chosen = _choose(_tokens(environ.get("HTTP_SEC_WEBSOCKET_PROTOCOL", "")), subprotocols)
    # RFC 6455 §4.2.2 point 5: the server's opening handshake. No extensions are negotiated.
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {generate_accept_token(key).decode('ascii')}",
    ]
    if chosen is not None:
        lines.append(f"Sec-WebSocket-Protocol: {chosen}")
    raw.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    return _take(environ, raw, 101), chosen


def _header_lines(headers: Iterable[tuple[str, str]]) -> list[str]:
    lines = []
    for name, value in headers:
        if any(c in name for c in "\r\n:") or any(c in value for c in "\r\n"):
            raise ValueError(f"header {name!r} cannot be written: it holds a line break or colon")
        if name.lower() not in _FRAMING:
            lines.append(f"{name}: {value}")
    return lines


def start_stream(environ: dict[str, Any], status: int, headers: Sequence[tuple[str, str]]) -> socket.socket:
    """Write an HTTP/1.1 response head (``status``, ``headers``, ``Transfer-Encoding: chunked``,
    ``Connection: close``) straight on the socket and take it (StreamingHTTPChannel2023).

    ``headers`` should be complete (CORS included): nothing else is added but ``Date``, and their
    own framing fields (Content-Length, Transfer-Encoding, Connection) are replaced. The body is
    written by :meth:`~pod_server.notifications.hub.Hub.stream`, one chunk per ``send()``.
    Raises BadRequest for an HTTP/1.0 client (RFC 9112 §7.1: no chunked coding for it) and
    ServiceUnavailable when the server exposes no raw socket (or TLS, or HTTP/2).
    """
    raw = _raw_socket(environ)
    if environ.get("SERVER_PROTOCOL") not in ("HTTP/1.1", None):
        raise BadRequest("a streaming response needs HTTP/1.1 (chunked transfer coding)")
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}".rstrip(), *_header_lines(headers)]
    if not any(name.lower() == "date" for name, _ in headers):
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")  # RFC 9110 §6.6.1
    lines += ["Transfer-Encoding: chunked", "Connection: close"]
    raw.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    return _take(environ, raw, status)


class Detached(flask.Response):
    """What a view returns once it has handed the socket to the hub: ``Detached(outlet)``.

    Its status is the one written (101, or the stream's), so the access log and metrics count the
    request; nothing of it is ever sent. Called by the server, it ends the request without a
    byte: at once in detach mode (:class:`pod_server.gunicorn.Worker`), else once
    ``outlet.closed`` is set, leaving as from a dropped connection (StopIteration for gunicorn,
    which then closes quietly; ConnectionAbortedError for werkzeug, which ignores dropped
    connections).
    """

    def __init__(self, outlet: Outlet) -> None:
        status = flask.request.environ.get(ENVIRON_KEY)
        if status is None:
            raise RuntimeError("Detached() needs a socket taken by accept_websocket() or start_stream()")
        # An iterator, not a list: the access log counts the size of a stream as unknown.
        super().__init__(iter(()), status=status)
        self.outlet = outlet

    def __call__(self, environ: dict[str, Any], start_response: Any) -> NoReturn:
        gunicorn = "gunicorn.socket" in environ
        if not (_detaching and gunicorn):
            # Park: this thread holds the server's side of the connection until the hub is done.
            self.outlet.closed.wait()
        if gunicorn:
            # gthread's handle() takes StopIteration as "close this connection", logged at debug
            # level only; pod_server.gunicorn.Worker then drops only its own descriptor.
            raise StopIteration("connection handed to the notification hub")
        # werkzeug's request handler treats a ConnectionError as a dropped connection: no
        # response, no error log. The hub shut the socket down, so its next read sees EOF.
        raise ConnectionAbortedError("connection handed to the notification hub")


__all__ = [
    "ENVIRON_KEY",
    "WEBSOCKET_VERSION",
    "Detached",
    "accept_websocket",
    "enable_detach",
    "release",
    "start_stream",
]
