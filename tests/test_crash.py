"""Crash safety: SIGKILL the whole server in the middle of writes, restart it, check the store.

The issue's requirement: "A test kills the server (SIGKILL) in the middle of writes. Afterwards
every resource is either its old or its new version, never torn, and the container listings
agree with the stored resources."

Every body verifies itself: a header line names its path, version, media type and the SHA-256 of
the payload that follows. Resources alternate between ``text/plain`` and a media type that changes
with every version, so a body stored with another version's type is caught. Each resource is
written by one client thread only, so its possible states after a crash are known exactly: the
last acknowledged state, or the state an unanswered request was setting (``None`` = deleted).
"""

from __future__ import annotations

import hashlib
import random
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef

from pod_server.vocab import LDP
from tests.live import LiveProcess, free_port, gunicorn_command, server_env

pytestmark = pytest.mark.slow

ROUNDS = 3
CONTAINERS = 4
DOCS_PER_CONTAINER = 10
WRITERS = 6
MIN_BODY, MAX_BODY = 256 * 1024, 2 * 1024 * 1024
HEADER = re.compile(rb"CRASHTEST path=(\S+) v=(\d+) ct=(\S+) sha256=([0-9a-f]{64}) len=(\d+)\n")

State = int | None  # a version, or None for "does not exist"


def media_type(path: str, version: int) -> str:
    """The type a version is written with: fixed for some resources, new each version for others."""
    if int(hashlib.sha256(path.encode()).hexdigest(), 16) % 2 == 0 or version % 3 == 0:
        return "text/plain"
    return f"application/x-crash-test-v{version}"


def body(path: str, version: int, size: int) -> bytes:
    unit = hashlib.sha256(f"{path}@{version}".encode()).digest()
    payload = (unit * (size // len(unit) + 1))[:size]
    digest = hashlib.sha256(payload).hexdigest()
    ct = media_type(path, version)
    return f"CRASHTEST path={path} v={version} ct={ct} sha256={digest} len={size}\n".encode() + payload


def verify(path: str, content: bytes, content_type: str) -> int:
    """The version a body read back holds; fails if it is torn or carries the wrong type."""
    found = HEADER.match(content)
    assert found, f"{path}: no header, body starts {content[:80]!r}"
    name, version, ct, digest, size = found.groups()
    payload = content[found.end() :]
    assert name.decode() == path, f"{path} holds the body of {name.decode()}"
    assert len(payload) == int(size), f"{path}: torn body, {len(payload)} of {int(size)} bytes"
    assert hashlib.sha256(payload).hexdigest() == digest.decode(), f"{path}: payload does not match its hash"
    assert ct.decode() == media_type(path, int(version))
    assert content_type.split(";")[0].strip() == ct.decode(), (
        f"{path}: version {int(version)} served as {content_type}, written as {ct.decode()}"
    )
    return int(version)


@dataclass
class Track:
    """What the clients know about one resource (owned by one writer thread)."""

    path: str
    acked: State = None
    maybe: set[State] = field(default_factory=set)  # unanswered (or 503) since the last ack
    last_version: int = 0

    def allowed(self) -> set[State]:
        return {self.acked} | self.maybe


@dataclass
class Round:
    tracks: list[Track]
    stop: threading.Event = field(default_factory=threading.Event)
    in_flight: int = 0
    acked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    unexpected: list[str] = field(default_factory=list)


def send(base: str, method: str, track: Track, target: State, rnd: Round) -> bool:
    """One write; returns False once the server is gone."""
    url = base + track.path.lstrip("/")
    track.maybe.add(target)
    with rnd.lock:
        rnd.in_flight += 1
    try:
        if target is None:
            response = requests.delete(url, timeout=20)
        else:
            size = random.randint(MIN_BODY, MAX_BODY)
            headers = {"Content-Type": media_type(track.path, target)}
            response = requests.put(url, data=body(track.path, target, size), headers=headers, timeout=20)
    except requests.RequestException:
        return False  # killed mid-request: ``target`` stays possible
    finally:
        with rnd.lock:
            rnd.in_flight -= 1
    if 200 <= response.status_code < 300:
        track.acked, track.maybe = target, set()
        with rnd.lock:
            rnd.acked += 1
    elif response.status_code != 503:  # 503 (busy): may or may not have happened; anything else is a bug
        track.maybe.discard(target)
        rnd.unexpected.append(f"{method} {track.path} -> {response.status_code} {response.text[:200]}")
    return True


def writer(base: str, mine: list[Track], rnd: Round, seed: int) -> None:
    rng = random.Random(seed)
    while not rnd.stop.is_set():
        track = rng.choice(mine)
        if track.acked is not None and rng.random() < 0.2:
            ok = send(base, "DELETE", track, None, rnd)
        else:
            track.last_version += 1
            ok = send(base, "PUT", track, track.last_version, rnd)
        if not ok:
            return


def contains(base: str, container: str) -> set[str]:
    url = base + container.lstrip("/")
    response = requests.get(url, headers={"Accept": "text/turtle"}, timeout=20)
    assert response.status_code == 200, f"{container}: {response.status_code}"
    graph = Graph().parse(data=response.text, format="turtle", publicID=url)
    return {str(o)[len(base) - 1 :] for o in graph.objects(URIRef(url), LDP.contains)}


def check_store(base: str, tracks: list[Track]) -> None:
    """Every resource is in an allowed, untorn state; every listing is exactly what exists."""
    by_path = {t.path: t for t in tracks}

    def observe(track: Track) -> State:
        response = requests.get(base + track.path.lstrip("/"), timeout=30)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, f"{track.path}: {response.status_code} {response.text[:200]}"
        return verify(track.path, response.content, response.headers["Content-Type"])

    with ThreadPoolExecutor(8) as pool:
        observed = dict(zip(by_path, pool.map(observe, tracks), strict=True))
    for path, state in observed.items():
        track = by_path[path]
        assert state in track.allowed(), f"{path} is {state}, expected one of {track.allowed()}"
        track.acked, track.maybe = state, set()

    # Walk the tree from the root: listed documents exist and are ours, listed containers exist,
    # and every existing document is listed in its container.
    listed: set[str] = set()
    pending = ["/"]
    while pending:
        container = pending.pop()
        for child in contains(base, container):
            assert child.startswith(container) and "/" not in child[len(container) :].rstrip("/")
            if child.endswith("/"):
                pending.append(child)
            else:
                assert child in by_path, f"{container} lists {child}, which no client wrote"
                assert observed[child] is not None, f"{container} lists {child}, which answers 404"
                listed.add(child)
    existing = {path for path, state in observed.items() if state is not None}
    assert listed == existing, f"not listed: {existing - listed}; listed but gone: {listed - existing}"


def seed(base: str, tracks: list[Track]) -> None:
    def put(track: Track) -> None:
        headers = {"Content-Type": media_type(track.path, 0)}
        response = requests.put(
            base + track.path.lstrip("/"), data=body(track.path, 0, 4096), headers=headers
        )
        assert response.status_code in (200, 201, 204), response.text
        track.acked = 0

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, [t for t in tracks if t.path.count("/") == 2 and "/d" in t.path]))


def make_tracks() -> list[Track]:
    tracks = [Track(f"/c{c}/d{d}.txt") for c in range(CONTAINERS) for d in range(DOCS_PER_CONTAINER)]
    # Resources that come and go, some in containers that have to be created on the way.
    tracks += [Track(f"/c{w % CONTAINERS}/new-{w}-{i}") for w in range(WRITERS) for i in range(3)]
    tracks += [Track(f"/c{w % CONTAINERS}/sub-{w}/n{i}.txt") for w in range(WRITERS) for i in range(2)]
    return tracks


@pytest.mark.parametrize("backend", ["filesystem", "sql"])
def test_sigkill_mid_write_leaves_old_or_new_versions(tmp_path: Path, backend: str) -> None:
    started = time.monotonic()
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    env = server_env(tmp_path / "data", port, backend=backend, access_log="0")
    tracks = make_tracks()
    rng = random.Random(port)

    server = LiveProcess(gunicorn_command(port), env=env, log=tmp_path / "server.log").start()
    try:
        server.wait_ready(base)
        seed(base, tracks)
        check_store(base, tracks)
        for round_no in range(ROUNDS):
            rnd = Round(tracks)
            owned: list[list[Track]] = [tracks[w::WRITERS] for w in range(WRITERS)]
            threads = [
                threading.Thread(target=writer, args=(base, owned[w], rnd, rng.random()), daemon=True)
                for w in range(WRITERS)
            ]
            for thread in threads:
                thread.start()
            # Let some writes complete, then kill while large bodies are in flight.
            deadline = time.monotonic() + 10
            delay = time.monotonic() + rng.uniform(0.4, 1.2)
            while time.monotonic() < deadline and (
                time.monotonic() < delay or rnd.acked < WRITERS or rnd.in_flight < 2
            ):
                time.sleep(0.005)
            in_flight_at_kill = rnd.in_flight
            server.kill(signal.SIGKILL)
            rnd.stop.set()
            for thread in threads:
                thread.join(30)
            assert not any(t.is_alive() for t in threads)
            assert rnd.unexpected == [], rnd.unexpected
            assert rnd.acked >= WRITERS, (
                f"round {round_no}: only {rnd.acked} writes completed before the kill"
            )
            assert in_flight_at_kill >= 1, f"round {round_no}: no write was in flight at the kill"

            server = LiveProcess(gunicorn_command(port), env=env, log=tmp_path / "server.log").start()
            server.wait_ready(base)
            check_store(base, tracks)
    finally:
        server.stop()
    assert time.monotonic() - started < 60, "the crash test took too long"
