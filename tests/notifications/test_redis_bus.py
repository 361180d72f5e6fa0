"""The Redis bus: every listening bus hears every message, whichever worker or process published it.

Uses the real Redis at 127.0.0.1:6379, one fresh channel per test; without Redis the tests are
skipped, except under CI (``CI=true``), where they fail (as in tests/auth/test_replay.py).
"""

from __future__ import annotations

import functools
import logging
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from pod_server.notifications import redis_bus
from pod_server.notifications.change import Change, ChannelClosed, Message, encode
from pod_server.notifications.redis_bus import RedisBus
from tests.redis import redis_url_or_skip

UNREACHABLE_URL = "redis://:s3cret-password@127.0.0.1:1/0"  # nothing listens on port 1
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url() -> Iterator[str]:
    yield redis_url_or_skip()


@pytest.fixture
def channel() -> str:
    return f"pod-server-test:{uuid.uuid4()}"


@pytest.fixture
def buses() -> Iterator[list[RedisBus]]:
    """Buses a test opens; all closed at the end, even when the test fails."""
    opened: list[RedisBus] = []
    yield opened
    for bus in opened:
        bus.close()


class Inbox:
    """A handler that records what it is given and lets a test wait for it."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()

    def __call__(self, message: Message) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 3.0) -> list[Message]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


def change(n: int) -> Change:
    return Change(
        kind="updated",
        path=f"/alice/notes/{n}.ttl",
        url=f"https://pod.example/alice/notes/{n}.ttl",
        etag=f'"{n}"',
        container="/alice/notes/",
        container_url="https://pod.example/alice/notes/",
        published=1_700_000_000.0 + n,
        id=f"urn:uuid:{uuid.uuid4()}",
    )


def bus_threads(channel: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if f"[{channel}]" in t.name]


def test_two_workers_hear_every_message_in_order(redis_url: str, channel: str, buses: list[RedisBus]) -> None:
    first, second = (
        RedisBus.from_url(redis_url, channel=channel),
        RedisBus.from_url(redis_url, channel=channel),
    )
    buses += [first, second]
    heard_by_first, heard_by_second = Inbox(), Inbox()
    first.listen(heard_by_first)
    second.listen(heard_by_second)
    assert first.connected and second.connected

    from_first = [change(n) for n in range(20)]
    from_second = [ChannelClosed(f"https://pod.example/.notifications/{n}") for n in range(20)]
    for a, b in zip(from_first, from_second, strict=True):
        first.publish(a)
        second.publish(b)

    for inbox in (heard_by_first, heard_by_second):
        heard = inbox.wait_for(40)
        assert len(heard) == 40  # each message exactly once, the publisher's own included
        assert [m for m in heard if isinstance(m, Change)] == from_first
        assert [m for m in heard if isinstance(m, ChannelClosed)] == from_second
    assert first.dropped == second.dropped == 0


def test_a_change_published_in_another_process_arrives(
    redis_url: str, channel: str, buses: list[RedisBus]
) -> None:
    bus = RedisBus.from_url(redis_url, channel=channel)
    buses.append(bus)
    inbox = Inbox()
    bus.listen(inbox)
    sent = change(7)
    script = textwrap.dedent(
        """
        import sys

        from pod_server.notifications.change import decode
        from pod_server.notifications.redis_bus import RedisBus

        bus = RedisBus.from_url(sys.argv[1], channel=sys.argv[2])
        bus.publish(decode(sys.argv[3]))
        bus.close()  # the publisher sends what it holds before ending
        """
    )
    command = [sys.executable, "-c", script, redis_url, channel, encode(sent).decode()]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert inbox.wait_for(1) == [sent]


def test_publish_neither_blocks_nor_raises_when_redis_is_unreachable(
    channel: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG, logger=redis_bus.__name__)
    bus = RedisBus.from_url(UNREACHABLE_URL, channel=channel, max_queue=5)
    try:
        started = time.monotonic()
        for n in range(25):
            bus.publish(change(n))
        assert time.monotonic() - started < 0.1
        assert bus.dropped == 20  # five held (in order) for when Redis comes back; the rest counted

        monkeypatch.setattr(redis_bus, "SUBSCRIBE_WAIT", 0.2)
        bus.listen(Inbox())  # returns after the bounded wait, without raising
        assert not bus.connected

        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and "cannot publish" not in caplog.text:
            time.sleep(0.02)
        assert "cannot publish to Redis at 127.0.0.1:1" in caplog.text
        assert "queue is full" in caplog.text
        assert caplog.text.count("queue is full") == 1  # at most once a minute
    finally:
        started = time.monotonic()
        bus.close()
        assert time.monotonic() - started < 1.2
    assert "s3cret" not in caplog.text
    assert not bus_threads(channel)


def test_foreign_messages_on_the_channel_are_skipped(
    redis_url: str, channel: str, buses: list[RedisBus], caplog: pytest.LogCaptureFixture
) -> None:
    bus = RedisBus.from_url(redis_url, channel=channel)
    buses.append(bus)
    inbox = Inbox()
    bus.listen(inbox)
    other = redis.Redis.from_url(redis_url)
    try:
        for garbage in (b"\xff\xfe not json", b'{"type": "change"}', b"[1, 2]", b"[" * 100_000):
            other.publish(channel, garbage)
    finally:
        other.close()
    good = change(1)
    bus.publish(good)
    assert inbox.wait_for(1) == [good]
    assert "not a pod-server notification" in caplog.text
    assert bus.connected


def test_a_failing_handler_does_not_stop_delivery(
    redis_url: str, channel: str, buses: list[RedisBus]
) -> None:
    bus = RedisBus.from_url(redis_url, channel=channel)
    buses.append(bus)
    inbox = Inbox()

    def handler(message: Message) -> None:
        inbox(message)
        if len(inbox.messages) == 1:
            raise RuntimeError("handler bug")

    bus.listen(handler)
    sent = [change(n) for n in range(3)]
    for message in sent:
        bus.publish(message)
    assert inbox.wait_for(3) == sent


def test_both_connections_come_back_after_redis_drops_them(
    redis_url: str, channel: str, buses: list[RedisBus]
) -> None:
    name = f"bus-{uuid.uuid4().hex}"
    # A factory of the caller's own, with redis-py's default (retrying) options.
    factory: Callable[[], redis.Redis] = functools.partial(redis.Redis.from_url, redis_url, client_name=name)
    bus = RedisBus(factory, channel=channel)
    buses.append(bus)
    inbox = Inbox()
    bus.listen(inbox)
    bus.publish(change(0))
    inbox.wait_for(1)

    admin = redis.Redis.from_url(redis_url)
    try:
        killed = [c["id"] for c in admin.client_list() if c["name"] == name]
        assert len(killed) == 2  # the publisher's and the listener's
        for client_id in killed:
            admin.client_kill_filter(_id=client_id)
    finally:
        admin.close()

    # Pub/sub keeps nothing for a listener that is reconnecting: probe until one arrives.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and len(inbox.messages) < 2:
        bus.publish(ChannelClosed("probe"))
        time.sleep(0.05)
    last = change(99)
    bus.publish(last)
    heard = inbox.wait_for(len(inbox.messages) + 1)
    assert heard[-1] == last
    assert bus.connected
    assert bus.dropped == 0  # the publisher noticed the closed connection before sending


def test_close_stops_the_threads_promptly_and_is_idempotent(redis_url: str, channel: str) -> None:
    bus = RedisBus.from_url(redis_url, channel=channel)
    inbox = Inbox()
    bus.listen(inbox)
    bus.publish(change(1))
    inbox.wait_for(1)
    assert sorted(t.name for t in bus_threads(channel)) == [
        f"pod-server-bus-listen[{channel}]",
        f"pod-server-bus-publish[{channel}]",
    ]
    assert all(t.daemon for t in bus_threads(channel))

    started = time.monotonic()
    bus.close()
    assert time.monotonic() - started < 1.0
    assert not bus_threads(channel)
    assert not bus.connected
    bus.close()
    bus.publish(change(2))  # after close: ignored, no thread started, no error
    assert not bus_threads(channel)
    assert bus.dropped == 0
