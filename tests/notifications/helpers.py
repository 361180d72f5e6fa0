"""Test-side notification clients: real WebSocket (websocket-client), streaming (requests) and
webhook receivers (http.server), written from the specs, not from pod_server's code."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
import websocket  # websocket-client

NOTIFY = "http://www.w3.org/ns/solid/notifications#"
CONTEXT = ["https://www.w3.org/ns/solid/notification/v1"]
JSONLD = {"Content-Type": "application/ld+json"}


class Closed(Exception):
    """The server closed the WebSocket; ``code`` is its close code."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"closed {code} {reason}")
        self.code = code
        self.reason = reason


def subscription(channel_type: str, topic: str, **features: Any) -> str:
    return json.dumps({"@context": CONTEXT, "type": NOTIFY + channel_type, "topic": topic, **features})


def service_url(base: str, channel_type: str) -> str:
    return f"{base}.notifications/{channel_type}/"


def subscribe(
    base: str, channel_type: str, topic: str, *, agent: Any = None, **features: Any
) -> requests.Response:
    body = subscription(channel_type, topic, **features)
    url = service_url(base, channel_type)
    if agent is not None:
        return agent.post(url, body, headers=JSONLD)  # type: ignore[no-any-return]
    return requests.post(url, data=body, headers=JSONLD, timeout=10)


def connect(url: str, *, subprotocols: list[str] | None = None, timeout: float = 5) -> websocket.WebSocket:
    return websocket.create_connection(url, timeout=timeout, subprotocols=subprotocols)


def receive(ws: websocket.WebSocket, timeout: float = 5) -> str:
    """The next text message; ``Closed`` if the server closes instead."""
    ws.settimeout(timeout)
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return str(data.decode())
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            ws.shutdown()  # the server ended it: release our socket now
            raise Closed(code, data[2:].decode(errors="replace"))
        if opcode == websocket.ABNF.OPCODE_PING:
            ws.pong(data)


def receive_json(ws: websocket.WebSocket, timeout: float = 5) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(receive(ws, timeout))
    return found


def nothing_within(ws: websocket.WebSocket, seconds: float) -> bool:
    try:
        receive(ws, seconds)
    except websocket.WebSocketTimeoutException:
        return True
    return False


@dataclass
class Hook:
    """A webhook receiver on 127.0.0.1. ``failures`` answers 500 that many times first;
    ``status`` answers every later request."""

    failures: int = 0
    status: int = 204
    received: queue.Queue[tuple[dict[str, str], bytes]] = field(default_factory=queue.Queue)
    attempts: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/hook?secret=s3cr3t"

    def __enter__(self) -> Hook:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.attempts += 1
                if hook.failures > 0:
                    hook.failures -= 1
                    status = 500
                else:
                    status = hook.status
                    if status < 300:
                        hook.received.put((dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def next(self, timeout: float = 5) -> tuple[dict[str, str], dict[str, Any]]:
        headers, body = self.received.get(timeout=timeout)
        return headers, json.loads(body)
