"""The in-process bus: messages reach the handler in order, on the bus's own thread."""

from __future__ import annotations

import threading
import time

from pod_server.notifications.bus import LocalBus
from pod_server.notifications.change import ChannelClosed, Message
from tests.notifications.hub_app import wait_for


def bus_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pod-server-bus"]


def test_messages_arrive_in_order_on_the_bus_thread() -> None:
    bus = LocalBus()
    heard: list[Message] = []
    threads: set[str] = set()

    def handler(message: Message) -> None:
        threads.add(threading.current_thread().name)
        heard.append(message)

    bus.publish(ChannelClosed("before-listen"))  # nobody listens yet: dropped
    bus.listen(handler)
    sent = [ChannelClosed(f"c{n}") for n in range(200)]
    for message in sent:
        bus.publish(message)
    try:
        assert wait_for(lambda: len(heard) >= len(sent))
        assert heard == sent
        assert threads == {"pod-server-bus"}
    finally:
        bus.close()


def test_a_failing_handler_does_not_stop_the_bus() -> None:
    bus = LocalBus()
    heard: list[Message] = []

    def handler(message: Message) -> None:
        heard.append(message)
        if len(heard) == 1:
            raise RuntimeError("handler bug")

    bus.listen(handler)
    try:
        bus.publish(ChannelClosed("first"))
        bus.publish(ChannelClosed("second"))
        assert wait_for(lambda: len(heard) == 2)
        assert heard == [ChannelClosed("first"), ChannelClosed("second")]
    finally:
        bus.close()


def test_close_ends_the_thread_and_stops_delivery() -> None:
    before = set(bus_threads())  # may include threads of closed buses that are still ending
    bus = LocalBus()
    heard: list[Message] = []
    bus.listen(heard.append)
    bus.publish(ChannelClosed("first"))
    assert wait_for(lambda: heard == [ChannelClosed("first")])
    (thread,) = set(bus_threads()) - before
    assert thread.daemon

    bus.close()
    bus.close()  # idempotent
    thread.join(1.0)
    assert not thread.is_alive()
    bus.publish(ChannelClosed("after-close"))
    time.sleep(0.05)
    assert heard == [ChannelClosed("first")]
    assert not set(bus_threads()) - before
