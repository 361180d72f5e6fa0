"""The notification hub holds live WebSockets and streams on one asyncio loop.

Each test serves the small app of :mod:`tests.notifications.hub_app` with werkzeug's threaded
server on 127.0.0.1 and talks to it with real clients (websocket-client, requests, bare sockets).
The gunicorn side (many connections, no thread each) is in tests/http/test_handoff.py.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import websocket

from pod_server.errors import ServiceUnavailable
from pod_server.notifications.hub import MAX_MESSAGE_CHARS, Hub, Outlet
from tests.notifications.hub_app import (
    Record,
    close_frame,
    make_app,
    no_new_threads,
    raw_handshake,
    serve_threaded,
    wait_for,
)

Serve = Callable[..., tuple[str, Hub, Record]]


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every hub thread and parked request thread is gone once a test's servers are closed."""
    with no_new_threads():
        yield


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(**hub_options)``: a running app over a fresh Hub; (address, hub, record)."""
    with contextlib.ExitStack() as stack:

        def start(**options: Any) -> tuple[str, Hub, Record]:
            hub = Hub(**options)
            app, record = make_app(hub)
            return stack.enter_context(serve_threaded(app, hub)), hub, record

        yield start


def nth(record: Record, index: int) -> Outlet:
    """The view's ``index``-th outlet (it is recorded just after the client saw the handshake)."""
    assert wait_for(lambda: len(record.outlets) > index)
    return record.outlets[index]


def connect(address: str, **options: Any) -> websocket.WebSocket:
    return websocket.create_connection(f"ws://{address}/ws", timeout=5, **options)


class Reader(threading.Thread):
    """A websocket-client connection read on a thread: collects texts and answers pings."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        super().__init__(daemon=True)
        self.ws = ws
        self.texts: list[str] = []
        self.error: BaseException | None = None
        self.stopping = False
        ws.settimeout(0.05)

    def run(self) -> None:
        while not self.stopping:
            try:
                self.texts.append(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            except Exception as exc:
                self.error = exc
                return

    def stop(self) -> None:
        self.stopping = True
        self.join(5)
        self.ws.close()


def test_echo_round_trip(serve: Serve) -> None:
    address, hub, record = serve()
    ws = connect(address)
    try:
        for text in ["hello", "grüße ✓", "x" * 50_000]:
            ws.send(text)
            assert ws.recv() == text
        assert len(hub) == 1
    finally:
        ws.close()
    assert nth(record, 0).closed.wait(5)
    assert wait_for(lambda: len(hub) == 0)


def test_server_close_code_and_reason_reach_the_client(serve: Serve) -> None:
    address, _, record = serve()
    ws = connect(address)
    ws.send("close 4001 see you later")
    assert close_frame(ws) == (4001, "see you later")
    outlet = nth(record, 0)
    assert outlet.closed.wait(5)
    assert wait_for(lambda: record.ended == [outlet])
    ws.close()


def test_client_close_calls_on_close_once_and_sets_closed(serve: Serve) -> None:
    address, hub, record = serve()
    ws = connect(address)
    ws.send("ping?")
    assert ws.recv() == "ping?"
    ws.close(status=1000)  # websocket-client waits for the server's Close (RFC 6455 §5.5.1)
    outlet = nth(record, 0)
    assert outlet.closed.wait(5)
    assert wait_for(lambda: record.ended == [outlet])
    outlet.send("too late")  # no-ops once closed
    outlet.close()
    time.sleep(0.05)
    assert record.ended == [outlet]
    assert len(hub) == 0


def test_a_client_that_vanishes_is_noticed(serve: Serve) -> None:
    address, _, record = serve()
    sock = raw_handshake(address)
    assert wait_for(lambda: len(record.outlets) == 1)
    sock.close()  # no Close frame: RFC 6455 §7.1.5, code 1006
    assert nth(record, 0).closed.wait(5)
    assert wait_for(lambda: len(record.ended) == 1)


def test_subprotocol_chosen_is_reported_to_the_view(serve: Serve) -> None:
    address, _, record = serve()
    ws = websocket.create_connection(f"ws://{address}/ws?protocols=a,b", subprotocols=["b", "a"], timeout=5)
    assert ws.getsubprotocol() == "b"
    assert wait_for(lambda: record.protocols == ["b"])
    ws.close()


def test_a_failing_callback_is_logged_and_the_hub_carries_on(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    address, _, _ = serve()
    ws = connect(address)
    with caplog.at_level(logging.ERROR, logger="pod_server.notifications.hub"):
        ws.send("boom")
        ws.send("still here")
        assert ws.recv() == "still here"
    assert "on_text callback failed" in caplog.text
    other = connect(address)
    other.send("and here")
    assert other.recv() == "and here"
    ws.close()
    other.close()


def test_binary_messages_are_refused_with_1003(serve: Serve) -> None:
    address, _, record = serve()
    ws = connect(address)
    ws.send_binary(b"\x00\x01")
    assert close_frame(ws)[0] == 1003  # RFC 6455 §7.4.1: unsupported data
    assert nth(record, 0).closed.wait(5)
    ws.close()


def test_a_message_too_big_is_refused_with_1009(serve: Serve) -> None:
    address, _, record = serve()
    ws = connect(address)
    ws.send("x" * (MAX_MESSAGE_CHARS + 1))
    assert close_frame(ws)[0] == 1009  # RFC 6455 §7.4.1: message too big
    assert nth(record, 0).closed.wait(5)


def test_the_hub_answers_a_client_ping(serve: Serve) -> None:
    address, _, _ = serve()
    ws = connect(address)
    ws.ping(b"are you there")
    assert ws.recv_data_frame(control_frame=True)[1].data == b"are you there"  # RFC 6455 §5.5.3
    ws.close()


def test_a_slow_consumer_is_cut_off_while_another_keeps_receiving(serve: Serve) -> None:
    address, _, record = serve(max_buffer_bytes=64 * 1024)
    slow = raw_handshake(address, rcvbuf=4096)  # does the handshake, then never reads
    slow_outlet = nth(record, 0)
    fast = Reader(connect(address))
    fast.start()
    fast_outlet = nth(record, 1)
    message = "n" * 32 * 1024
    sent = 0
    started = time.monotonic()
    # Lock-step with the fast reader, so only the reader that does not read falls behind: the
    # kernel's socket buffers fill first, then the hub's, then it is cut off.
    while not slow_outlet.closed.is_set() and sent < 2000:
        slow_outlet.send(message)
        fast_outlet.send(message)
        sent += 1
        assert wait_for(lambda n=sent: len(fast.texts) == n, 5), "the fast reader fell behind"
    assert slow_outlet.closed.is_set(), f"not cut off after {sent} messages"
    assert time.monotonic() - started < 10
    for _ in range(5):
        fast_outlet.send("after")
    assert wait_for(lambda: fast.texts[-5:] == ["after"] * 5)
    assert not fast_outlet.closed.is_set()
    assert fast.error is None
    fast.stop()
    slow.close()


def test_send_never_blocks_on_a_stuck_reader(serve: Serve) -> None:
    address, _, record = serve(max_buffer_bytes=256 * 1024)
    stuck = raw_handshake(address, rcvbuf=4096)
    assert wait_for(lambda: len(record.outlets) == 1)
    outlet = nth(record, 0)
    started = time.monotonic()
    for _ in range(2000):  # 64 MB, far more than any buffer holds
        outlet.send("s" * 32 * 1024)
    assert time.monotonic() - started < 2
    assert outlet.closed.wait(5)
    stuck.close()


def test_a_dead_peer_is_found_by_ping_and_a_live_one_is_kept(serve: Serve) -> None:
    address, _, record = serve(ping_interval=0.2)
    dead = raw_handshake(address)  # never reads, so never answers a ping
    dead_outlet = nth(record, 0)
    alive = Reader(connect(address))  # websocket-client answers pings as it reads
    alive.start()
    alive_outlet = nth(record, 1)
    started = time.monotonic()
    assert dead_outlet.closed.wait(3)
    assert 0.1 < time.monotonic() - started < 1.5  # not before the next round, at most two rounds
    time.sleep(0.8)  # four more rounds
    assert not alive_outlet.closed.is_set()
    alive_outlet.send("still there")
    assert wait_for(lambda: "still there" in alive.texts)
    alive.stop()
    dead.close()


def test_stream_sends_chunks_and_notices_the_client_leaving(serve: Serve) -> None:
    address, hub, record = serve()
    response = requests.get(f"http://{address}/stream", stream=True, timeout=5)
    assert response.status_code == 200
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert wait_for(lambda: len(record.outlets) == 1)
    outlet = nth(record, 0)
    chunks = response.iter_content(None)
    outlet.send("first\n")
    assert next(chunks) == b"first\n"
    outlet.send("")  # nothing: an empty chunk would end the body
    outlet.send("zweite ✓\n")
    assert next(chunks) == "zweite ✓\n".encode()
    response.close()
    assert outlet.closed.wait(5)
    assert wait_for(lambda: record.ended == [outlet])
    assert wait_for(lambda: len(hub) == 0)


def test_stream_close_ends_the_body_cleanly(serve: Serve) -> None:
    address, _, record = serve()
    response = requests.get(f"http://{address}/stream", stream=True, timeout=5)
    assert wait_for(lambda: len(record.outlets) == 1)
    outlet = nth(record, 0)
    outlet.send("only\n")
    outlet.close()
    outlet.close()
    assert b"".join(response.iter_content(None)) == b"only\n"  # the zero-length chunk ends it
    assert outlet.closed.wait(5)


def test_closing_the_hub_says_going_away_to_everyone(serve: Serve) -> None:
    address, hub, record = serve(close_timeout=0.5)
    sockets = [connect(address) for _ in range(3)]
    stream = requests.get(f"http://{address}/stream", stream=True, timeout=5)
    assert wait_for(lambda: len(hub) == 4)
    codes: list[tuple[int, str]] = []
    readers = [threading.Thread(target=lambda ws=ws: codes.append(close_frame(ws))) for ws in sockets]
    for reader in readers:
        reader.start()
    hub.close()
    hub.close()  # idempotent
    for reader in readers:
        reader.join(5)
    assert codes == [(1001, "server shutting down")] * 3
    assert all(outlet.closed.is_set() for outlet in record.outlets)
    assert b"".join(stream.iter_content(None)) == b""
    assert len(hub) == 0
    # This hub's thread ends (other tests' servers keep hubs of their own in this process).
    thread = hub._thread
    assert thread is None or wait_for(lambda: not thread.is_alive())
    # A closed hub refuses: the handshake is already answered, so the refusal is a Close frame.
    late = connect(address)
    assert close_frame(late)[0] == 1001
    for ws in [*sockets, late]:
        ws.close()


def test_max_connections_refuses_with_1013(serve: Serve) -> None:
    address, hub, _ = serve(max_connections=2)
    first, second = connect(address), connect(address)
    assert wait_for(lambda: hub.full)  # the view hands the socket over just after the 101
    third = connect(address)
    assert close_frame(third)[0] == 1013  # Try Again Later
    assert len(hub) == 2
    first.close()
    assert wait_for(lambda: not hub.full)
    fourth = connect(address)
    fourth.send("in")
    assert fourth.recv() == "in"
    for ws in (second, third, fourth):
        ws.close()


def test_close_codes_outside_the_range_are_refused() -> None:
    hub = Hub(close_timeout=0.1)
    mine, theirs = socket.socketpair()
    try:
        outlet = hub.websocket(mine)
        for code in (999, 5000):
            with pytest.raises(ValueError, match="close code"):
                outlet.close(code)
        assert not outlet.closed.is_set()
    finally:
        hub.close()
        theirs.close()


def test_a_full_hub_raises_service_unavailable_and_closes_the_socket() -> None:
    hub = Hub(max_connections=0)
    mine, theirs = socket.socketpair()
    try:
        with pytest.raises(ServiceUnavailable):
            hub.websocket(mine)
        theirs.settimeout(2)
        frame = theirs.recv(100)
        assert frame[0] == 0x88 and frame[2:4] == (1013).to_bytes(2, "big")  # a Close frame, code 1013
        assert theirs.recv(100) == b""
    finally:
        theirs.close()
        hub.close()


def test_an_idle_connection_costs_a_few_kilobytes() -> None:
    """Memory per idle WebSocket (Python objects: transport, wsproto state, outlet), no thread."""
    hub = Hub(close_timeout=0.1)  # the socketpair peers never answer the Close at the end
    pairs = [socket.socketpair() for _ in range(201)]
    outlets: list[Outlet] = []
    try:
        outlets.append(hub.websocket(pairs[0][0]))  # starts the loop: not counted
        threads = threading.active_count()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for mine, _ in pairs[1:]:
            outlets.append(hub.websocket(mine))
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        assert grown / 200 < 8 * 1024, f"{grown / 200:.0f} bytes per connection"
        assert threading.active_count() == threads
        assert len(hub) == 201
    finally:
        hub.close()
        for mine, theirs in pairs:
            mine.close()
            theirs.close()
    assert all(outlet.closed.is_set() for outlet in outlets)
