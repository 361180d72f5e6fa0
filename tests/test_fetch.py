"""The safe fetcher against real local HTTP servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pod_server.fetch import FetchError, FetchPolicy, SafeFetcher, is_public_address


class Handler(BaseHTTPRequestHandler):
    counter = 0

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        Handler.counter += 1
        if path == "/ok":
            self._send(
                200, b'{"hello": "world"}', {"Cache-Control": "max-age=60", "X-Host": self.headers["Host"]}
            )
        elif path == "/count":
            self._send(200, str(Handler.counter).encode(), {"Cache-Control": "max-age=1"})
        elif path == "/nostore":
            self._send(200, str(Handler.counter).encode(), {"Cache-Control": "no-store"})
        elif path == "/big":
            self._send(200, b"x" * 5000)
        elif path == "/big-chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"3e8\r\n" + b"y" * 1000 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif path == "/hop":
            self._send(302, b"", {"Location": "/ok"})
        elif path == "/to-private":
            self._send(302, b"", {"Location": "http://10.1.2.3/secret"})
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late")
        else:
            self._send(404, b"")

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def allowed(**kw: Any) -> SafeFetcher:
    return SafeFetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), **kw))


@pytest.mark.parametrize(
    "address,public",
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("2001:4860:4860::8888", True),
        ("100.64.0.1", False),
    ],
)
def test_address_table(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_private_addresses_are_refused_by_default(origin: str) -> None:
    with pytest.raises(FetchError) as caught:
        SafeFetcher().get(f"http://{origin}/ok")
    assert caught.value.reason == "private-address"


def test_a_name_resolving_to_any_private_address_is_refused() -> None:
    fetcher = SafeFetcher(resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(FetchError) as caught:
        fetcher.get("http://rebind.example/doc")
    assert caught.value.reason == "private-address"


def test_connects_to_the_checked_address_keeping_the_host_name(origin: str) -> None:
    port = origin.split(":")[1]
    fetcher = SafeFetcher(
        FetchPolicy(allow_hosts=frozenset({"app.test"})), resolver=lambda h, p: ["127.0.0.1"]
    )
    fetched = fetcher.get(f"http://app.test:{port}/ok")
    assert fetched.status == 200 and fetched.headers["x-host"] == f"app.test:{port}"


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "http://user:pw@example.org/"])
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(FetchError):
        SafeFetcher().get(url)


def test_allowed_host_is_fetched_and_cached_for_max_age(origin: str) -> None:
    fetcher = allowed()
    first = fetcher.get(f"http://{origin}/count")
    assert fetcher.get(f"http://{origin}/count").body == first.body  # cached
    time.sleep(1.1)
    assert fetcher.get(f"http://{origin}/count").body != first.body  # expired after max-age=1


def test_no_store_is_not_cached(origin: str) -> None:
    fetcher = allowed()
    assert fetcher.get(f"http://{origin}/nostore").body != fetcher.get(f"http://{origin}/nostore").body


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_oversize_bodies_are_cut_off(origin: str, path: str) -> None:
    with pytest.raises(FetchError) as caught:
        allowed(max_bytes=1000).get(f"http://{origin}{path}")
    assert caught.value.reason == "too-large"


def test_redirects_are_limited_and_each_hop_checked(origin: str) -> None:
    assert allowed().get(f"http://{origin}/hop").body == b'{"hello": "world"}'
    with pytest.raises(FetchError) as caught:
        allowed().get(f"http://{origin}/loop")
    assert caught.value.reason == "redirects"
    with pytest.raises(FetchError) as caught:
        allowed().get(f"http://{origin}/to-private")
    assert caught.value.reason == "private-address"


def test_slow_servers_time_out(origin: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        allowed(read_timeout=0.3).get(f"http://{origin}/slow")
    assert caught.value.reason == "timeout" and time.monotonic() - started < 1.4


def test_an_authenticated_get_is_never_cached_nor_redirected(origin: str) -> None:
    fetcher = allowed()
    headers = {"Authorization": "DPoP token", "DPoP": "proof"}
    first = fetcher.get_as(f"http://{origin}/count", headers)
    second = fetcher.get_as(f"http://{origin}/count", headers)
    assert int(second.body) == int(first.body) + 1  # /count says max-age=1; no cache used
    hop = fetcher.get_as(f"http://{origin}/hop", headers)
    assert hop.status == 302  # the credentials are not carried to another URL
    with pytest.raises(FetchError) as caught:
        fetcher.get_as("http://10.1.2.3/secret", headers)
    assert caught.value.reason == "private-address"
