"""Handing a connection from the WSGI server to the notification hub.

The handshake checks (RFC 6455 §4.2) and the written heads are tested on werkzeug's threaded
server, where ``Detached`` parks the request thread; the point of the exercise, many live
connections that hold no server thread, under gunicorn with ``pod_server.gunicorn.Worker``.
"""

from __future__ import annotations

import base64
import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from pod_server.http.handoff import start_stream
from pod_server.notifications.hub import Hub
from tests.live import LiveProcess, free_port, server_env
from tests.notifications.hub_app import (
    Record,
    close_frame,
    gunicorn_command,
    make_app,
    no_new_threads,
    serve_threaded,
    wait_for,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3's example key ...
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # ... and its accept token
UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
}


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    with no_new_threads():
        yield


@pytest.fixture
def served() -> Iterator[tuple[str, Hub, Record]]:
    hub = Hub(close_timeout=0.5)
    app, record = make_app(hub)
    with serve_threaded(app, hub) as address:
        yield address, hub, record


def read_head(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """Status line, headers (lower-cased names) and whatever came after the head."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed in the head: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, rest


def raw_request(address: str, path: str, headers: dict[str, str]) -> socket.socket:
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    lines = [f"GET {path} HTTP/1.1", f"Host: {address}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


# -- the opening handshake (RFC 6455 §4.2) -------------------------------------------------------


def test_the_101_answer_is_written_on_the_raw_socket(served: tuple[str, Hub, Record]) -> None:
    address, hub, _ = served
    with raw_request(address, "/ws", UPGRADE) as sock:
        status, headers, rest = read_head(sock)
        assert status == "HTTP/1.1 101 Switching Protocols"
        assert headers["upgrade"] == "websocket"
        assert headers["connection"] == "Upgrade"
        assert headers["sec-websocket-accept"] == ACCEPT
        assert "sec-websocket-protocol" not in headers
        assert "sec-websocket-extensions" not in headers  # none negotiated: frames are plain
        assert rest == b""
        assert wait_for(lambda: len(hub) == 1)


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"Sec-WebSocket-Key": None}, 400, "Sec-WebSocket-Key"),
        ({"Sec-WebSocket-Key": base64.b64encode(b"short").decode()}, 400, "16 random bytes"),
        ({"Sec-WebSocket-Key": "not base64!"}, 400, "16 random bytes"),
        ({"Sec-WebSocket-Version": "8"}, 400, "version 13"),
        ({"Sec-WebSocket-Version": None}, 400, "version 13"),
        ({"Upgrade": None, "Connection": None}, 400, "Upgrade: websocket"),
        ({"Connection": "keep-alive"}, 400, "Connection: Upgrade"),
    ],
)
def test_a_bad_handshake_is_refused(
    served: tuple[str, Hub, Record], change: dict[str, str | None], status: int, needle: str
) -> None:
    address, hub, _ = served
    headers = {k: v for k, v in {**UPGRADE, **change}.items() if v is not None}
    response = requests.get(f"http://{address}/ws", headers=headers, timeout=5)
    assert response.status_code == status
    assert needle in response.text
    if "Sec-WebSocket-Version" in change:
        # RFC 6455 §4.2.2 point 4: name the versions the server speaks.
        assert response.headers["Sec-WebSocket-Version"] == "13"
    assert len(hub) == 0


@pytest.mark.parametrize(
    ("supported", "offered", "chosen"),
    [
        ("a,b", ["b", "a"], "b"),  # the client's order decides
        ("solid-0.1", ["x", "solid-0.1"], "solid-0.1"),
        ("", [], None),
    ],
)
def test_subprotocol_negotiation(
    served: tuple[str, Hub, Record], supported: str, offered: list[str], chosen: str | None
) -> None:
    address, _, _ = served
    ws = websocket.create_connection(
        f"ws://{address}/ws?protocols={supported}", subprotocols=offered or None, timeout=5
    )
    try:
        assert ws.getsubprotocol() == chosen
        ws.send("hi")
        assert ws.recv() == "hi"
    finally:
        ws.close()


def test_offered_subprotocols_the_view_does_not_take_are_not_answered(
    served: tuple[str, Hub, Record],
) -> None:
    address, _, record = served
    with raw_request(address, "/ws", {**UPGRADE, "Sec-WebSocket-Protocol": "x, y"}) as sock:
        status, headers, _ = read_head(sock)
        assert status == "HTTP/1.1 101 Switching Protocols"
        assert "sec-websocket-protocol" not in headers  # RFC 6455 §4.2.2 point 5.4: none chosen
        assert wait_for(lambda: record.protocols == [None])


@pytest.mark.parametrize("offered", [["x"], []])
def test_a_client_offering_none_of_the_required_subprotocols_gets_400(
    served: tuple[str, Hub, Record], offered: list[str]
) -> None:
    address, _, _ = served
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(f"ws://{address}/ws?protocols=a", subprotocols=offered or None, timeout=5)
    assert refused.value.status_code == 400
    assert b"Sec-WebSocket-Protocol with one of: a" in (refused.value.resp_body or b"")


def test_without_a_raw_socket_the_answer_is_503() -> None:
    app, _ = make_app(Hub())
    client = app.test_client()  # werkzeug's test client puts no socket in the environ
    response = client.get("/ws", headers=UPGRADE)
    assert response.status_code == 503
    assert response.text == "this server cannot hold WebSocket connections"
    assert client.get("/stream").status_code == 503


# -- streams --------------------------------------------------------------------------------------


def test_the_stream_head_and_chunks_are_written_on_the_raw_socket(served: tuple[str, Hub, Record]) -> None:
    address, _, record = served
    with raw_request(address, "/stream", {}) as sock:
        status, headers, rest = read_head(sock)
        assert status == "HTTP/1.1 200 OK"
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert headers["transfer-encoding"] == "chunked"
        assert headers["connection"] == "close"
        assert "date" in headers
        assert "content-length" not in headers
        assert wait_for(lambda: len(record.outlets) == 1)
        outlet = record.outlets[0]
        outlet.send("é\n")
        outlet.close()
        body = rest
        while chunk := sock.recv(4096):
            body += chunk
        assert body == b"3\r\n\xc3\xa9\n\r\n0\r\n\r\n"  # RFC 9112 §7.1, then EOF


def test_start_stream_refuses_a_header_that_would_split_the_response() -> None:
    mine, theirs = socket.socketpair()
    environ: dict[str, Any] = {"werkzeug.socket": mine, "SERVER_PROTOCOL": "HTTP/1.1"}
    try:
        with pytest.raises(ValueError, match="line break"):
            start_stream(environ, 200, [("X-Evil", "a\r\nSet-Cookie: x=1")])
    finally:
        mine.close()
        theirs.close()


def test_an_http_1_0_client_cannot_stream(served: tuple[str, Hub, Record]) -> None:
    address, _, _ = served
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /stream HTTP/1.0\r\n\r\n")
        status, _, _ = read_head(sock)
    assert status.split()[1] == "400"


# -- park mode (werkzeug) -------------------------------------------------------------------------


def test_a_parked_request_thread_leaves_when_the_connection_closes(served: tuple[str, Hub, Record]) -> None:
    address, _, record = served

    def request_threads() -> int:
        return sum(
            t.name.startswith("Thread-") and "process_request" in t.name for t in threading.enumerate()
        )

    before = request_threads()
    ws = websocket.create_connection(f"ws://{address}/ws", timeout=5)
    assert wait_for(lambda: request_threads() == before + 1)  # werkzeug holds a thread per socket
    ws.send("close 1000 done")
    assert close_frame(ws) == (1000, "done")
    assert wait_for(lambda: request_threads() == before)
    assert len(record.ended) == 1


# -- gunicorn -------------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(tmp_path: Path, worker: str, **env: str) -> Iterator[tuple[str, LiveProcess]]:
    port = free_port()
    environment = {**server_env(tmp_path / "data", port), **env}
    command = gunicorn_command(port, worker=worker, threads=4)
    with LiveProcess(command, env=environment, log=tmp_path / "gunicorn.log") as server:
        server.wait_ready(f"http://127.0.0.1:{port}/hello")
        yield f"127.0.0.1:{port}", server


def stats(address: str) -> dict[str, Any]:
    found: dict[str, Any] = requests.get(f"http://{address}/stats", timeout=5).json()
    return found


@pytest.mark.slow
def test_gunicorn_worker_holds_500_websockets_without_a_thread_each(tmp_path: Path) -> None:
    with gunicorn(tmp_path, "pod_server.gunicorn.Worker") as (address, _):
        idle = stats(address)
        sockets = [websocket.create_connection(f"ws://{address}/ws", timeout=10) for _ in range(500)]
        try:
            assert wait_for(lambda: stats(address)["connections"] == 500)
            # 4 request threads, 500 connections: requests are still answered, many at once.
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(lambda _: requests.get(f"http://{address}/hello", timeout=5), range(40))
                )
            assert [a.text for a in answers] == ["hello"] * 40
            busy = stats(address)
            assert busy["threads"] <= idle["threads"] + 4  # the pool's 4 at most, none per socket
            # A broadcast reaches every socket.
            sent = requests.post(f"http://{address}/broadcast", data="to all", timeout=10)
            assert sent.text == "500"
            assert all(ws.recv() == "to all" for ws in sockets)
            # Echo and a server-initiated close still work on a detached connection.
            sockets[0].send("echo")
            assert sockets[0].recv() == "echo"
            sockets[1].send("close 4000 bye")
            assert close_frame(sockets[1]) == (4000, "bye")
        finally:
            for ws in sockets:
                ws.close()
        assert wait_for(lambda: stats(address)["connections"] == 0)
        # The worker dropped its descriptor of each handed-off connection, the hub its own.
        assert wait_for(lambda: stats(address)["fds"] <= idle["fds"] + 2)


@pytest.mark.slow
def test_gunicorn_worker_streams_and_notices_readers_leaving(tmp_path: Path) -> None:
    with gunicorn(tmp_path, "pod_server.gunicorn.Worker") as (address, _):
        streams = [requests.get(f"http://{address}/stream", stream=True, timeout=5) for _ in range(6)]
        try:
            assert wait_for(lambda: stats(address)["connections"] == 6)  # more than the 4 threads
            requests.post(f"http://{address}/broadcast", data="news\n", timeout=5)
            assert all(next(s.iter_content(None)) == b"news\n" for s in streams)
        finally:
            for stream in streams:
                stream.close()
        assert wait_for(lambda: stats(address)["connections"] == 0)


@pytest.mark.slow
def test_plain_gthread_parks_a_thread_per_connection_and_still_works(tmp_path: Path) -> None:
    with gunicorn(tmp_path, "gthread") as (address, _):
        ws = websocket.create_connection(f"ws://{address}/ws", timeout=5)
        ws.send("parked")
        assert ws.recv() == "parked"
        stream = requests.get(f"http://{address}/stream", stream=True, timeout=5)
        assert wait_for(lambda: stats(address)["connections"] == 2)
        requests.post(f"http://{address}/broadcast", data="both\n", timeout=5)
        assert ws.recv() == "both\n"
        assert next(stream.iter_content(None)) == b"both\n"
        stream.close()
        ws.send("close 1000 bye")
        assert close_frame(ws) == (1000, "bye")
        assert wait_for(lambda: stats(address)["connections"] == 0)
        assert requests.get(f"http://{address}/hello", timeout=5).text == "hello"


@pytest.mark.slow
def test_a_stopping_gunicorn_worker_says_going_away(tmp_path: Path) -> None:
    with gunicorn(tmp_path, "pod_server.gunicorn.Worker") as (address, server):
        sockets = [websocket.create_connection(f"ws://{address}/ws", timeout=5) for _ in range(3)]
        assert wait_for(lambda: stats(address)["connections"] == 3)
        server.kill(signal.SIGTERM)  # the worker stops; the hub closes as the process exits
        assert [close_frame(ws)[0] for ws in sockets] == [1001] * 3
        assert server.process is not None
        assert server.process.wait(10) == 0


def test_run_uses_the_detaching_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    from pod_server import gunicorn as pod_gunicorn
    from pod_server.config import Settings

    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
            seen.update(options)

        def run(self) -> None:
            pass

    monkeypatch.setattr(pod_gunicorn, "_Server", Recorder)
    pod_gunicorn.run(Settings(), workers=1, threads=2)
    assert seen["worker_class"] == "pod_server.gunicorn.Worker"
