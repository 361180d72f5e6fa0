"""The workers' bus on one machine: Unix datagram sockets in a shared folder, real processes."""

from __future__ import annotations

import queue
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pod_server.notifications.change import Change, Message, encode
from pod_server.notifications.sibling_bus import SiblingBus

ROOT = Path(__file__).resolve().parents[2]


def change(n: int) -> Change:
    return Change(
        "updated", f"/doc{n}", f"http://x/doc{n}", f"e{n}", "/", "http://x/", 1.0 + n, f"urn:uuid:{n}"
    )


@pytest.fixture
def buses(tmp_path: Path) -> Iterator[list[SiblingBus]]:
    made: list[SiblingBus] = []
    yield made
    for bus in made:
        bus.close()


def _listening(bus: SiblingBus) -> queue.Queue[Message]:
    heard: queue.Queue[Message] = queue.Queue()
    bus.listen(heard.put)
    return heard


def _drain(heard: queue.Queue[Message], count: int) -> list[Message]:
    return [heard.get(timeout=5) for _ in range(count)]


def test_two_workers_hear_every_message_in_order(tmp_path: Path, buses: list[SiblingBus]) -> None:
    a, b = SiblingBus(tmp_path / "bus"), SiblingBus(tmp_path / "bus")
    buses += [a, b]
    heard_a, heard_b = _listening(a), _listening(b)
    time.sleep(1.1)  # each re-reads the folder once a second: both now know both sockets
    sent = [change(n) for n in range(30)]
    for message in sent:
        a.publish(message)
    assert _drain(heard_a, 30) == sent  # the publisher's own included
    assert _drain(heard_b, 30) == sent


def test_a_change_from_another_process_arrives(tmp_path: Path, buses: list[SiblingBus]) -> None:
    folder = tmp_path / "bus"
    bus = SiblingBus(folder)
    buses.append(bus)
    heard = _listening(bus)
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from pod_server.notifications.change import decode
        from pod_server.notifications.sibling_bus import SiblingBus

        bus = SiblingBus(Path(sys.argv[1]))
        bus.publish(decode(sys.argv[2]))
        time.sleep(0.5)
        bus.close()
        """
    )
    sent = change(7)
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder), encode(sent).decode()],
        cwd=ROOT,
        timeout=30,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    assert heard.get(timeout=5) == sent


def test_a_dead_workers_socket_is_removed_and_costs_nothing(tmp_path: Path, buses: list[SiblingBus]) -> None:
    folder = tmp_path / "bus"
    bus = SiblingBus(folder)
    buses.append(bus)
    heard = _listening(bus)
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from pod_server.notifications.sibling_bus import SiblingBus

        bus = SiblingBus(Path(sys.argv[1]))
        bus.listen(lambda message: None)
        print(bus._path, flush=True)
        time.sleep(60)
        """
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script, str(folder)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        stale = Path(worker.stdout.readline().strip())
        assert stale.exists()
    finally:
        worker.kill()  # killed: its socket file stays behind, nobody reads it
        worker.wait(10)
    time.sleep(1.1)
    bus.publish(change(1))
    assert heard.get(timeout=5) == change(1)
    deadline = time.monotonic() + 5
    while stale.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not stale.exists()
    assert worker.stdout is not None
    worker.stdout.close()


def test_garbage_on_the_socket_is_skipped(tmp_path: Path, buses: list[SiblingBus]) -> None:
    import socket

    bus = SiblingBus(tmp_path / "bus")
    buses.append(bus)
    heard = _listening(bus)
    assert bus._path is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as other:
        other.sendto(b"\xff not a message", str(bus._path))
    bus.publish(change(2))
    assert heard.get(timeout=5) == change(2)


def test_close_removes_the_socket_and_stops(tmp_path: Path) -> None:
    bus = SiblingBus(tmp_path / "bus")
    bus.listen(lambda m: None)
    assert bus._path is not None and bus._path.exists()
    bus.close()
    bus.close()
    assert not bus._path.exists()
    bus.publish(change(3))  # nothing happens, nothing raises
