"""WebhookSender against a real webhook receiver on 127.0.0.1, through a real SafeFetcher."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pod_server.fetch import FetchPolicy, SafeFetcher
from pod_server.notifications.channel import Channel, MemoryChannels
from pod_server.notifications.webhooks import WebhookSender

BACKOFF = 0.05
FETCH_TIMEOUT = 1.0
"""The fetcher's read timeout: a hanging receiver costs a worker this long."""


@dataclass
class Received:
    path: str
    body: bytes
    content_type: str
    headers: dict[str, str]


@dataclass
class Behaviour:
    """What the receiver does at one path: fail ``fail`` times with ``status``, then answer 204;
    ``hang`` holds each request until ``release`` is set (or ``hang`` seconds pass)."""

    fail: int = 0
    status: int = 500
    hang: float = 0.0
    release: threading.Event = field(default_factory=threading.Event)


class Receiver:
    """A webhook receiver whose behaviour per path the test switches."""

    def __init__(self) -> None:
        self.behaviours: dict[str, Behaviour] = {}
        self.received: list[Received] = []
        self.attempts: dict[str, int] = {}
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                path = self.path.split("?", 1)[0]
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                behaviour = receiver.behaviours.get(path, Behaviour())
                with receiver.arrived:
                    receiver.attempts[path] = receiver.attempts.get(path, 0) + 1
                    attempt = receiver.attempts[path]
                    receiver.arrived.notify_all()
                if behaviour.hang:
                    behaviour.release.wait(behaviour.hang)
                status = behaviour.status if attempt <= behaviour.fail else 204
                if status == 204:
                    with receiver.arrived:
                        receiver.received.append(
                            Received(path, body, self.headers.get("Content-Type", ""), dict(self.headers))
                        )
                        receiver.arrived.notify_all()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def bodies(self, path: str) -> list[bytes]:
        with self.arrived:
            return [r.body for r in self.received if r.path == path]

    def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(min(left, 0.01))  # also polls conditions on the sender
            return True

    def close(self) -> None:
        for behaviour in self.behaviours.values():
            behaviour.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def fetcher(*, allow_local: bool = True) -> SafeFetcher:
    return SafeFetcher(
        FetchPolicy(
            allow_hosts=frozenset({"127.0.0.1"}) if allow_local else frozenset(),
            connect_timeout=FETCH_TIMEOUT,
            read_timeout=FETCH_TIMEOUT,
            total_timeout=FETCH_TIMEOUT + 0.5,
        )
    )


@pytest.fixture
def channels() -> MemoryChannels:
    return MemoryChannels()


@pytest.fixture
def make_sender(channels: MemoryChannels) -> Iterator[Callable[..., WebhookSender]]:
    made: list[WebhookSender] = []

    def make(**kwargs: Any) -> WebhookSender:
        kwargs.setdefault("backoff", BACKOFF)
        sender = WebhookSender(kwargs.pop("fetcher", None) or fetcher(), channels, **kwargs)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def channel(channels: MemoryChannels, send_to: str, name: str = "c1") -> Channel:
    made = Channel(
        id=f"http://pod.example/.notifications/WebhookChannel2023/{name}",
        type="WebhookChannel2023",
        topic="http://pod.example/doc",
        topic_path="/doc",
        end_at=time.time() + 3600,
        created=time.time(),
        send_to=send_to,
    )
    channels.add(made)
    return made


def settle(sender: WebhookSender, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while sender.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sender.pending() == 0


# -- delivery ------------------------------------------------------------------------------------
def test_delivers_body_and_content_type(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any
) -> None:
    sender = make_sender(headers=lambda url: {"Authorization": "DPoP token-for " + url})
    target = channel(channels, receiver.base + "/hook?token=s3cret")
    sender.deliver(target, b'{"type":"Update"}', "application/ld+json")
    sender.deliver(target, b"<a> <b> <c> .", "text/turtle")
    assert receiver.wait_for(lambda: len(receiver.received) == 2)
    first, second = receiver.received
    assert (first.path, first.body, first.content_type) == (
        "/hook",
        b'{"type":"Update"}',
        "application/ld+json",
    )
    assert (second.body, second.content_type) == (b"<a> <b> <c> .", "text/turtle")
    assert first.headers["Authorization"] == f"DPoP token-for {target.send_to}"
    settle(sender)
    assert (sender.delivered, sender.failed, sender.dropped_channels) == (2, 0, 0)


def test_deliver_returns_at_once(receiver: Receiver, channels: MemoryChannels, make_sender: Any) -> None:
    receiver.behaviours["/slow"] = Behaviour(hang=0.5)
    sender = make_sender()
    target = channel(channels, receiver.base + "/slow")
    started = time.monotonic()
    for n in range(20):
        sender.deliver(target, str(n).encode(), "application/ld+json")
    assert time.monotonic() - started < 0.1
    assert sender.pending() == 20


def test_recovers_after_two_failures_and_keeps_order(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any
) -> None:
    receiver.behaviours["/flaky"] = Behaviour(fail=2, status=503)
    dropped: list[Channel] = []
    sender = make_sender(attempts=3, on_drop=dropped.append)
    target = channel(channels, receiver.base + "/flaky")
    for n in range(5):
        sender.deliver(target, f"n{n}".encode(), "application/ld+json")
    assert receiver.wait_for(lambda: len(receiver.bodies("/flaky")) == 5)
    settle(sender)
    assert receiver.bodies("/flaky") == [b"n0", b"n1", b"n2", b"n3", b"n4"]
    assert receiver.attempts["/flaky"] == 7  # n0 three times, then one each
    assert (sender.delivered, sender.failed, sender.dropped_channels) == (5, 2, 0)
    assert dropped == []
    assert channels.get(target.id, now=time.time()) == target
    # The count was reset by the success: two more failures do not reach attempts=3.
    receiver.behaviours["/flaky"] = Behaviour(fail=receiver.attempts["/flaky"] + 2)
    sender.deliver(target, b"n5", "application/ld+json")
    assert receiver.wait_for(lambda: len(receiver.bodies("/flaky")) == 6)
    assert sender.dropped_channels == 0


def test_retry_waits_for_the_backoff(receiver: Receiver, channels: MemoryChannels, make_sender: Any) -> None:
    receiver.behaviours["/late"] = Behaviour(fail=2)
    sender = make_sender(backoff=0.2, attempts=5)
    target = channel(channels, receiver.base + "/late")
    started = time.monotonic()
    sender.deliver(target, b"x", "application/ld+json")
    assert receiver.wait_for(lambda: len(receiver.bodies("/late")) == 1)
    # Waits 0.2 then 0.4 seconds, each ±20%.
    assert 0.6 * 0.8 <= time.monotonic() - started < 0.6 * 1.2 + 0.5


def test_always_failing_target_is_dropped(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.behaviours["/dead"] = Behaviour(fail=10**6)
    dropped: list[Channel] = []
    sender = make_sender(attempts=4, on_drop=dropped.append)
    target = channel(channels, receiver.base + "/dead?token=s3cret")
    with caplog.at_level(logging.WARNING, logger="pod_server.notifications.webhooks"):
        sender.deliver(target, b"a", "application/ld+json")
        sender.deliver(target, b"b", "application/ld+json")
        assert receiver.wait_for(lambda: bool(dropped), timeout=5)
    settle(sender)
    assert dropped == [target]
    assert receiver.attempts["/dead"] == 4
    assert channels.get(target.id, now=time.time()) is None
    assert (sender.delivered, sender.failed, sender.dropped_channels, sender.discarded) == (0, 4, 1, 2)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert target.id in warnings[0].getMessage() and "127.0.0.1" in warnings[0].getMessage()
    assert "s3cret" not in caplog.text and "/dead" not in caplog.text
    # Later notifications for the dropped channel go nowhere.
    sender.deliver(target, b"c", "application/ld+json")
    settle(sender)
    time.sleep(0.1)
    assert receiver.attempts["/dead"] == 4
    assert sender.dropped_channels == 1


def test_hanging_target_does_not_delay_other_channels(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any
) -> None:
    receiver.behaviours["/hang"] = Behaviour(hang=FETCH_TIMEOUT * 3)
    sender = make_sender(workers=2)
    stuck = channel(channels, receiver.base + "/hang", "stuck")
    healthy = channel(channels, receiver.base + "/ok", "healthy")
    for n in range(3):  # several queued behind the hang still hold only one worker
        sender.deliver(stuck, f"s{n}".encode(), "application/ld+json")
    assert receiver.wait_for(lambda: receiver.attempts.get("/hang", 0) == 1)
    started = time.monotonic()
    for n in range(5):
        sender.deliver(healthy, f"h{n}".encode(), "application/ld+json")
    assert receiver.wait_for(lambda: len(receiver.bodies("/ok")) == 5, timeout=FETCH_TIMEOUT)
    assert time.monotonic() - started < FETCH_TIMEOUT / 2
    assert receiver.bodies("/ok") == [b"h0", b"h1", b"h2", b"h3", b"h4"]
    # The hang is a timeout, so a failure: the first notification is retried, not skipped.
    assert receiver.wait_for(lambda: sender.failed >= 1, timeout=FETCH_TIMEOUT * 2)
    receiver.behaviours["/hang"].release.set()
    receiver.behaviours["/hang"].hang = 0
    assert receiver.wait_for(lambda: len(set(receiver.bodies("/hang"))) == 3, timeout=3)
    # At least once: the receiver may also have kept the attempt the sender gave up on.
    assert list(dict.fromkeys(receiver.bodies("/hang"))) == [b"s0", b"s1", b"s2"]


def test_removed_channel_gets_nothing(receiver: Receiver, channels: MemoryChannels, make_sender: Any) -> None:
    sender = make_sender()
    target = channel(channels, receiver.base + "/gone")
    channels.remove(target.id)
    sender.deliver(target, b"x", "application/ld+json")
    settle(sender)
    assert "/gone" not in receiver.attempts
    assert (sender.delivered, sender.failed, sender.discarded) == (0, 0, 1)


def test_channel_removed_while_retrying_gets_nothing_more(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any
) -> None:
    receiver.behaviours["/bye"] = Behaviour(fail=10**6)
    dropped: list[Channel] = []
    sender = make_sender(backoff=0.3, on_drop=dropped.append)
    target = channel(channels, receiver.base + "/bye")
    sender.deliver(target, b"a", "application/ld+json")
    sender.deliver(target, b"b", "application/ld+json")
    assert receiver.wait_for(lambda: receiver.attempts.get("/bye", 0) == 1)
    channels.remove(target.id)  # unsubscribed during the back-off
    settle(sender, timeout=2)
    time.sleep(0.1)
    assert receiver.attempts["/bye"] == 1
    assert (sender.failed, sender.discarded, sender.dropped_channels) == (1, 2, 0)
    assert dropped == []


def test_expired_channel_gets_nothing(receiver: Receiver, channels: MemoryChannels, make_sender: Any) -> None:
    sender = make_sender()
    target = channel(channels, receiver.base + "/old")
    channels.remove(target.id)
    expired = replace(target, end_at=time.time() - 1)
    channels.add(expired)
    sender.deliver(expired, b"x", "application/ld+json")
    settle(sender)
    assert "/old" not in receiver.attempts


def test_private_address_refused_unless_allowed(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any
) -> None:
    dropped: list[Channel] = []
    sender = make_sender(fetcher=fetcher(allow_local=False), attempts=3, on_drop=dropped.append)
    target = channel(channels, receiver.base + "/private")
    sender.deliver(target, b"x", "application/ld+json")
    assert receiver.wait_for(lambda: bool(dropped), timeout=3)
    assert dropped == [target]
    assert "/private" not in receiver.attempts
    assert (sender.failed, sender.dropped_channels) == (3, 1)


def test_queue_is_bounded_oldest_discarded(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any
) -> None:
    receiver.behaviours["/busy"] = Behaviour(hang=FETCH_TIMEOUT / 2)
    sender = make_sender(max_pending_per_channel=3)
    target = channel(channels, receiver.base + "/busy")
    sender.deliver(target, b"first", "application/ld+json")
    assert receiver.wait_for(lambda: receiver.attempts.get("/busy", 0) == 1)  # in flight
    for n in range(10):
        sender.deliver(target, f"n{n}".encode(), "application/ld+json")
    assert sender.pending() == 4  # the one in flight plus the newest three
    assert sender.discarded == 7
    receiver.behaviours["/busy"].release.set()
    assert receiver.wait_for(lambda: len(receiver.bodies("/busy")) == 4)
    assert receiver.bodies("/busy") == [b"first", b"n7", b"n8", b"n9"]


def test_different_channels_are_independent_when_one_is_failing(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any
) -> None:
    receiver.behaviours["/down"] = Behaviour(fail=10**6)
    sender = make_sender(workers=1, backoff=0.2, attempts=10)
    down = channel(channels, receiver.base + "/down", "down")
    up = channel(channels, receiver.base + "/up", "up")
    sender.deliver(down, b"d", "application/ld+json")
    assert receiver.wait_for(lambda: receiver.attempts.get("/down", 0) == 1)
    started = time.monotonic()
    sender.deliver(up, b"u", "application/ld+json")  # not queued behind the other's back-off
    assert receiver.wait_for(lambda: receiver.bodies("/up") == [b"u"])
    assert time.monotonic() - started < 0.15


def test_close_is_prompt_and_idempotent(
    receiver: Receiver, channels: MemoryChannels, make_sender: Any
) -> None:
    receiver.behaviours["/wait"] = Behaviour(fail=10**6)
    sender = make_sender(backoff=30.0)
    target = channel(channels, receiver.base + "/wait")
    sender.deliver(target, b"x", "application/ld+json")
    assert receiver.wait_for(lambda: receiver.attempts.get("/wait", 0) == 1)
    threads = list(sender._threads)
    started = time.monotonic()
    sender.close()
    sender.close()
    assert time.monotonic() - started < 0.5
    assert not any(t.is_alive() for t in threads)
    sender.deliver(target, b"y", "application/ld+json")  # ignored after close
    assert sender.pending() == 0


def test_backoff_doubles_with_jitter_and_cap(channels: MemoryChannels) -> None:
    sender = WebhookSender(fetcher(), channels, backoff=1.0, max_backoff=10.0)
    for failures, base in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]:
        for _ in range(50):
            assert base * 0.8 <= sender._delay(failures) <= base * 1.2
    assert all(sender._delay(9) == 10.0 for _ in range(20))
    assert sender._delay(10_000) == 10.0
    sender.close()


def test_no_threads_until_first_delivery(channels: MemoryChannels) -> None:
    sender = WebhookSender(fetcher(), channels)
    assert sender._threads == []
    sender.close()
