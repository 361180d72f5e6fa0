#!/usr/bin/env python3
"""Solid Notifications (WebSocketChannel2023) side by side: pod-server and CSS 7.

    bench/notifications.py [--servers ours,css-file,css-mem] [--reps 2] [-n 300] [--subscribers 1000]
                           [-m 20] [--spacing 0.5] [--out DIR]

Usually run through ``bench/run_notifications.sh``. For every round and server (interleaved: ours,
css-file, css-mem), the server is started fresh, a public read-write container is made, and:

1. **Latency.** One WebSocket subscriber on a document; a writer PUTs a small Turtle body N times,
   one after the other, each PUT waiting for its notification before the next. Latency is the time
   from just before the PUT is sent to the arrival of the next frame on the socket (its ``state`` is
   checked against the PUT's ETag when the server sends one). The PUT's own response time is kept too.
2. **Fan-out.** S subscribers (default 1,000) to one document, each its own channel (POST to the
   subscription service) and its own socket, all in this one asyncio process; then M PUTs, each
   after the previous one reached every subscriber (or timed out) plus ``--spacing`` seconds. Per
   PUT: time to the first and to the last subscriber's frame; frames lost. Also the server's RSS
   (VmRSS, summed over its process tree) before subscribing and with all sockets open and idle,
   and the server's CPU time (user+sys, process tree) spent during the M PUTs.

Servers: ``ours`` is ``bench/start_ours.sh`` (gunicorn, 2 workers, ``pod_server.gunicorn.Worker``)
in single-pod open mode (no owner: the root is publicly writable) with
``POD_SERVER_REDIS_URL`` (changes reach sockets held by the other worker through Redis pub/sub).
``css-file`` and ``css-mem`` are CSS 7 from the shared harness install (``$SCRATCH/css``), started
exactly as ``../shared/bench/run_all.sh`` starts them (``@css:config/file.json`` and
``@css:config/default.json``; both import ``css:config/http/notifications/all.json``, i.e.
WebSocketChannel2023). CSS's ``file.json`` has no public root, so for both CSS configurations an
account and pod are made through the CSS account API and a bench container in the pod gets a public
Read/Write ACL, with the harness's own helpers (``adapters.provision_css``, ``solid_auth``);
afterwards every request, subscriptions included, is anonymous, as for ours.

Results: one JSON file per server and round plus ``summary.json`` and ``summary.md`` (medians over
rounds, ratios CSS ÷ ours) in ``--out``. Needs ``requests`` and ``websockets`` (the ``bench`` extra)
and, for the CSS provisioning, ``cryptography``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from websockets.asyncio.client import ClientConnection, connect

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WS_CHANNEL = "http://www.w3.org/ns/solid/notifications#WebSocketChannel2023"
NOTIFICATION_CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
TURTLE = {"Content-Type": "text/turtle"}
PORTS = {"ours": 3905, "css-mem": 3901, "css-file": 3902}
CSS_CONFIGS = {"css-mem": "@css:config/default.json", "css-file": "@css:config/file.json"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def doc_body(i: int) -> bytes:
    return (
        "@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
        f'<#me> a foaf:Person; foaf:name "Notification bench"; foaf:nick "n{i}".\n'
    ).encode()


def norm_etag(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


# --------------------------------------------------------------------------- process tree
def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(_children(p))
    return tree


def tree_rss_mb(pid: int) -> float:
    total_kb = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


def tree_sockets(pid: int) -> dict[int, int]:
    """Open sockets per process of the tree: where the subscribers' connections live."""
    counts: dict[int, int] = {}
    for p in process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        n = 0
        for fd in fds:
            with contextlib.suppress(OSError):
                n += os.readlink(f"/proc/{p}/fd/{fd}").startswith("socket:")
        counts[p] = n
    return counts


def tree_cpu_s(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14, 15)
        except OSError:
            pass
    return total / ticks


# --------------------------------------------------------------------------- servers
@dataclass
class Server:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    cold_start_s: float
    container: str = ""
    scratch: Path | None = None

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {base}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(base, timeout=5).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{base} did not answer within {timeout_s} s")


def start_server(name: str, a: argparse.Namespace, logfile: Path) -> Server:
    port = PORTS[name]
    base = f"http://localhost:{port}/"
    env = dict(os.environ)
    scratch = Path(tempfile.mkdtemp(prefix=f"notif-{name}-", dir=a.scratch))
    if name == "ours":
        env.update(
            PORT=str(port),
            OURS_DATA_ROOT=str(scratch),
            POD_SERVER_SINGLE_POD="1",
            POD_SERVER_BASE_URL=base,
        )
        if a.redis_url:  # empty: the workers share changes over the sibling bus (one machine)
            env["POD_SERVER_REDIS_URL"] = a.redis_url
        env.pop("OURS_PROVISION", None)
        cmd = [str(HERE / "start_ours.sh")]
        cwd = str(REPO)
    else:
        css = Path(a.scratch) / "css"
        cmd = [
            "node",
            "-r",
            str(Path(a.harness) / "servers" / "loopback.cjs"),
            str(css / "node_modules/@solid/community-server/bin/server.js"),
            "-c",
            CSS_CONFIGS[name],
            "-p",
            str(port),
            "-b",
            base,
            "-l",
            "warn",
        ]
        if name == "css-file":
            cmd[6:6] = ["-f", str(scratch / "data")]
        cwd = str(css)
    out = open(logfile, "ab")  # noqa: SIM115 - the child keeps it; closed when the round ends
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    out.close()
    server = Server(name, base, proc, 0.0, scratch=scratch)
    try:
        wait_ready(base, proc, a.start_timeout)
    except BaseException:
        server.stop()
        raise
    server.cold_start_s = time.perf_counter() - t0
    return server


def provision(server: Server, a: argparse.Namespace) -> None:
    """Make ``server.container``: a container every anonymous agent may read and write."""
    tag = uuid.uuid4().hex[:8]
    if server.name == "ours":
        # Single-pod open mode: no owner, the root is publicly writable.
        server.container = f"{server.base}notif-{tag}/"
        return
    sys.path.insert(0, a.harness)
    from adapters import provision_css  # type: ignore[import-not-found]
    from scenarios import _acl_url, _public_rw_acl  # type: ignore[import-not-found]
    from solid_auth import DpopAuth, DpopKey, client_credentials_token  # type: ignore[import-not-found]

    creds = provision_css(server.base)
    key = DpopKey()
    token = client_credentials_token(creds["issuer"], creds["client_id"], creds["client_secret"], key)
    owner = requests.Session()
    owner.auth = DpopAuth(token["access_token"], key)
    container = f"{creds['pod']}notif-{tag}/"
    r = owner.put(container + "seed.ttl", data=doc_body(0), headers=TURTLE, timeout=60)
    r.raise_for_status()
    acl = _acl_url(owner, container)
    r = owner.put(acl, data=_public_rw_acl(container, creds["webid"]), headers=TURTLE, timeout=60)
    r.raise_for_status()
    server.container = container


# --------------------------------------------------------------------------- protocol
def subscribe(http: requests.Session, base: str, topic: str) -> str:
    """POST a WebSocketChannel2023 subscription (Solid Notifications §6.2); return ``receiveFrom``."""
    body = {"@context": [NOTIFICATION_CONTEXT], "type": WS_CHANNEL, "topic": topic}
    r = http.post(
        f"{base}.notifications/WebSocketChannel2023/",
        data=json.dumps(body),
        headers={"Content-Type": "application/ld+json", "Accept": "application/ld+json"},
        timeout=120,
    )
    if r.status_code >= 300:
        raise RuntimeError(f"subscribe {topic}: {r.status_code} {r.text[:300]}")
    return str(r.json()["receiveFrom"])


async def open_socket(url: str) -> ClientConnection:
    parts = urlsplit(url)
    # Connect straight to 127.0.0.1 (every server here listens there) while the request still
    # names localhost: saves a refused ::1 attempt per socket.
    return await connect(
        url,
        host="127.0.0.1",
        port=parts.port,
        compression=None,
        open_timeout=120,
        ping_interval=None,
        max_queue=None,
    )


def put(http: requests.Session, url: str, body: bytes) -> tuple[float, float, str | None]:
    """PUT; returns (start, response time s, normalized ETag)."""
    t0 = time.perf_counter()
    r = http.put(url, data=body, headers=TURTLE, timeout=120)
    dt_s = time.perf_counter() - t0
    if r.status_code >= 300:
        raise RuntimeError(f"PUT {url}: {r.status_code} {r.text[:300]}")
    return t0, dt_s, norm_etag(r.headers.get("ETag"))


# --------------------------------------------------------------------------- 1. latency
async def latency_test(server: Server, n: int, warmup: int, timeout_s: float) -> dict[str, Any]:
    http = requests.Session()
    doc = server.container + "latency.ttl"
    put(http, doc, doc_body(0))
    ws = await open_socket(subscribe(http, server.base, doc))
    frames: asyncio.Queue[tuple[float, str]] = asyncio.Queue()

    async def receive() -> None:
        with contextlib.suppress(Exception):
            async for message in ws:
                frames.put_nowait((time.perf_counter(), str(message)))

    reader = asyncio.create_task(receive())
    await asyncio.sleep(0.2)
    latencies: list[float] = []
    put_times: list[float] = []
    state_matches = state_checked = timeouts = extra = 0
    types: dict[str, int] = {}
    try:
        for i in range(warmup + n):
            while not frames.empty():  # a stray frame would shift every later pairing
                frames.get_nowait()
                extra += i >= warmup
            t0, put_s, etag = await asyncio.to_thread(put, http, doc, doc_body(i + 1))
            try:
                t_recv, raw = await asyncio.wait_for(frames.get(), timeout_s)
            except TimeoutError:
                timeouts += i >= warmup
                continue
            if i < warmup:
                continue
            latencies.append(t_recv - t0)
            put_times.append(put_s)
            note = json.loads(raw)
            types[str(note.get("type"))] = types.get(str(note.get("type")), 0) + 1
            if etag is not None:
                state_checked += 1
                state_matches += norm_etag(note.get("state")) == etag
    finally:
        await ws.close()
        reader.cancel()
    ms = [x * 1000 for x in latencies]
    put_ms = [x * 1000 for x in put_times]
    return {
        "n": n,
        "received": len(ms),
        "timeouts": timeouts,
        "extra_frames": extra,
        "notification_types": types,
        "state_checked": state_checked,
        "state_matches_etag": state_matches,
        "latency_ms": {"p50": pct(ms, 50), "p99": pct(ms, 99), "mean": statistics.fmean(ms) if ms else None},
        "put_ms": {"p50": pct(put_ms, 50), "p99": pct(put_ms, 99)},
        "after_put_ms_p50": pct([a - b for a, b in zip(ms, put_ms, strict=True)], 50),
    }


# --------------------------------------------------------------------------- 2. fan-out
@dataclass
class Subscriber:
    ws: ClientConnection
    frames: list[tuple[float, str | None]] = field(default_factory=list)


async def fanout_test(
    server: Server, subscribers: int, m: int, spacing: float, timeout_s: float, threads: int
) -> dict[str, Any]:
    http = requests.Session()
    doc = server.container + "fanout.ttl"
    put(http, doc, doc_body(0))
    await asyncio.sleep(1.0)
    rss_before = tree_rss_mb(server.proc.pid)

    # Subscribe: S POSTs on a thread pool, one requests.Session per thread.
    local = threading.local()

    def sub_one(_: int) -> str:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        return subscribe(local.http, server.base, doc)

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        urls = await asyncio.to_thread(lambda: list(pool.map(sub_one, range(subscribers))))
    subscribe_s = time.perf_counter() - t0

    gate = asyncio.Semaphore(100)

    async def open_one(url: str) -> ClientConnection:
        async with gate:
            return await open_socket(url)

    t0 = time.perf_counter()
    sockets = await asyncio.gather(*(open_one(u) for u in urls))
    connect_s = time.perf_counter() - t0
    subs = [Subscriber(ws) for ws in sockets]
    received = 0
    progress = asyncio.Event()

    async def receive(sub: Subscriber) -> None:
        nonlocal received
        with contextlib.suppress(Exception):
            async for message in sub.ws:
                t = time.perf_counter()
                try:
                    state = norm_etag(json.loads(message).get("state"))
                except ValueError:
                    state = None
                sub.frames.append((t, state))
                received += 1
                progress.set()

    readers = [asyncio.create_task(receive(s)) for s in subs]
    await asyncio.sleep(2.0)  # idle: let the server settle before reading its memory
    rss_after = tree_rss_mb(server.proc.pid)
    sockets_per_process = tree_sockets(server.proc.pid)
    early = received  # frames before any PUT (there should be none)

    cpu0 = tree_cpu_s(server.proc.pid)
    client0 = time.process_time()
    starts: list[float] = []
    etags: list[str | None] = []
    put_ms: list[float] = []
    timed_out = 0
    for i in range(m):
        target = early + (i + 1) * subscribers
        t_put, put_s, etag = await asyncio.to_thread(put, http, doc, doc_body(i + 1))
        starts.append(t_put)
        etags.append(etag)
        put_ms.append(put_s * 1000)
        deadline = time.perf_counter() + timeout_s
        while received < target and time.perf_counter() < deadline:
            progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(progress.wait(), max(0.0, deadline - time.perf_counter()))
        timed_out += received < target
        await asyncio.sleep(spacing)
    await asyncio.sleep(min(timeout_s, 5.0))  # late frames still count as delivered, not lost
    cpu_s = tree_cpu_s(server.proc.pid) - cpu0
    client_cpu_s = time.process_time() - client0

    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()

    # Pair frames with PUTs: by state = the PUT's ETag when the server sends ETags, else by order
    # (a socket's k-th frame is the k-th PUT's notification).
    by_state = all(e is not None for e in etags) and len(set(etags)) == len(etags)
    index = {e: i for i, e in enumerate(etags)}
    arrivals: list[list[float]] = [[] for _ in range(m)]
    unmatched = 0
    for sub in subs:
        seen: set[int] = set()
        for k, (t, state) in enumerate(sub.frames):
            j = index.get(state) if by_state else (k if k < m else None)
            if j is None or j in seen:
                unmatched += 1
                continue
            seen.add(j)
            arrivals[j].append(t)
    first_ms = [(min(a) - s) * 1000 for a, s in zip(arrivals, starts, strict=True) if a]
    all_ms = [(max(a) - s) * 1000 for a, s in zip(arrivals, starts, strict=True) if len(a) == subscribers]
    delivered = sum(len(a) for a in arrivals)
    return {
        "subscribers": subscribers,
        "puts": m,
        "spacing_s": spacing,
        "subscribe_s": subscribe_s,
        "connect_s": connect_s,
        "paired_by": "state" if by_state else "order",
        "frames_before_puts": early,
        "delivered": delivered,
        "lost": subscribers * m - delivered,
        "unmatched_frames": unmatched,
        "puts_timed_out": timed_out,
        "puts_fully_delivered": len(all_ms),
        "first_ms": {"p50": pct(first_ms, 50), "p99": pct(first_ms, 99)},
        "all_ms": {"p50": pct(all_ms, 50), "p99": pct(all_ms, 99), "max": max(all_ms) if all_ms else None},
        "put_ms": {"p50": pct(put_ms, 50), "p99": pct(put_ms, 99)},
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "rss_per_socket_kb": (rss_after - rss_before) * 1024 / subscribers,
        "server_cpu_s": cpu_s,
        "server_cpu_ms_per_notification": cpu_s * 1000 / delivered if delivered else None,
        "client_cpu_s": client_cpu_s,
        "sockets_per_process": {str(k): v for k, v in sockets_per_process.items()},
    }


# --------------------------------------------------------------------------- summary
ROWS: list[tuple[str, str]] = [
    # label, dotted path into a result
    ("notification latency p50, ms", "latency.latency_ms.p50"),
    ("notification latency p99, ms", "latency.latency_ms.p99"),
    ("PUT response time p50, ms (context)", "latency.put_ms.p50"),
    ("fan-out to {S}: first delivered p50, ms", "fanout.first_ms.p50"),
    ("fan-out to {S}: all delivered p50, ms", "fanout.all_ms.p50"),
    ("fan-out to {S}: all delivered p99, ms", "fanout.all_ms.p99"),
    ("notifications lost (of S x M)", "fanout.lost"),
    ("subscribe {S} channels (POSTs), s", "fanout.subscribe_s"),
    ("open {S} sockets, s", "fanout.connect_s"),
    ("server RSS before subscribing, MB", "fanout.rss_before_mb"),
    ("server RSS with {S} idle sockets, MB", "fanout.rss_after_mb"),
    ("RSS per idle socket + channel, KB", "fanout.rss_per_socket_kb"),
    ("server CPU per notification delivered, ms", "fanout.server_cpu_ms_per_notification"),
    ("cold start, s", "cold_start_s"),
]


def dig(result: dict[str, Any], path: str) -> float | None:
    value: Any = result
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, int | float) else None


def fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if x == int(x) and abs(x) < 1e6:
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def summarize(
    results: list[dict[str, Any]], servers: list[str], subscribers: int
) -> tuple[dict[str, Any], str]:
    medians: dict[str, dict[str, float | None]] = {}
    for s in servers:
        runs = [r for r in results if r["server"] == s and "error" not in r]
        medians[s] = {}
        for _, path in ROWS:
            vals = [v for v in (dig(r, path) for r in runs) if v is not None]
            medians[s][path] = statistics.median(vals) if vals else None
    css = [s for s in servers if s != "ours"]
    head = ["", *servers] + [f"{c} ÷ ours" for c in css if "ours" in servers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, path in ROWS:
        cells = [label.replace("{S}", f"{subscribers:,}")] + [fmt(medians[s][path]) for s in servers]
        if "ours" in servers:
            ours = medians["ours"][path]
            for c in css:
                theirs = medians[c][path]
                ratio = theirs / ours if theirs is not None and ours else None
                cells.append(f"{ratio:.1f}x" if ratio is not None and path != "fanout.lost" else "-")
        lines.append("| " + " | ".join(cells) + " |")
    errors = [f"- {r['server']} round {r['round']}: {r['error']}" for r in results if "error" in r]
    md = "\n".join(lines) + ("\n\nErrors:\n" + "\n".join(errors) if errors else "") + "\n"
    return {"medians": medians, "rounds": len({r["round"] for r in results})}, md


# --------------------------------------------------------------------------- main
async def measure(server: Server, a: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"cold_start_s": server.cold_start_s, "container": server.container}
    log(f"{server.name}: latency, {a.n} PUTs")
    result["latency"] = await latency_test(server, a.n, a.warmup, a.timeout)
    lat = result["latency"]["latency_ms"]
    log(f"{server.name}: latency p50 {fmt(lat['p50'])} ms, p99 {fmt(lat['p99'])} ms")
    log(f"{server.name}: fan-out, {a.subscribers} subscribers, {a.m} PUTs")
    result["fanout"] = await fanout_test(server, a.subscribers, a.m, a.spacing, a.timeout, a.threads)
    fo = result["fanout"]
    log(
        f"{server.name}: subscribed in {fmt(fo['subscribe_s'])} s, all delivered p50 "
        f"{fmt(fo['all_ms']['p50'])} ms, lost {fo['lost']}, "
        f"RSS {fmt(fo['rss_before_mb'])} -> {fmt(fo['rss_after_mb'])} MB"
    )
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="ours,css-file,css-mem")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("-n", type=int, default=300, help="sequential PUTs in the latency test")
    ap.add_argument("--warmup", type=int, default=10, help="PUTs before the latency test counts")
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("-m", type=int, default=20, help="PUTs in the fan-out test")
    ap.add_argument("--spacing", type=float, default=0.5, help="s between fan-out PUTs")
    ap.add_argument("--timeout", type=float, default=30.0, help="s to wait for a notification")
    ap.add_argument("--threads", type=int, default=16, help="threads subscribing in the fan-out test")
    ap.add_argument("--redis-url", default=os.environ.get("POD_SERVER_REDIS_URL", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--scratch", default=os.environ.get("SCRATCH", f"{tempfile.gettempdir()}/pod-bench"))
    ap.add_argument("--harness", default=os.environ.get("HARNESS", str(REPO.parent / "shared" / "bench")))
    ap.add_argument("--start-timeout", type=float, default=180)
    ap.add_argument("--out", help="results folder (default $SCRATCH/results/notifications-<stamp>)")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.subscribers * 2 + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(a.out or f"{a.scratch}/results/notifications-{stamp}")
    out.mkdir(parents=True, exist_ok=True)
    servers = [s.strip() for s in a.servers.split(",") if s.strip()]
    meta = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "options": {k: v for k, v in vars(a).items() if k not in ("harness", "scratch")},
        "nproc": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
    }
    log(f"results -> {out}")
    results: list[dict[str, Any]] = []
    for rnd in range(1, a.reps + 1):
        for name in servers:
            log(f"### round {rnd}: {name}")
            res: dict[str, Any] = {"server": name, "round": rnd, "loadavg": os.getloadavg()}
            server = None
            try:
                server = start_server(name, a, out / f"{name}-r{rnd}.log")
                log(f"{name}: up in {server.cold_start_s:.2f} s (pid {server.proc.pid})")
                provision(server, a)
                res.update(asyncio.run(measure(server, a)))
            except Exception as e:  # one failed server must not lose the others' results
                res["error"] = f"{type(e).__name__}: {e}"
                log(f"!!! {name} round {rnd} failed: {res['error']}")
            finally:
                if server is not None:
                    server.stop()
            (out / f"{name}-r{rnd}.json").write_text(json.dumps(res, indent=2))
            results.append(res)
    meta["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    summary, md = summarize(results, servers, a.subscribers)
    (out / "summary.json").write_text(json.dumps({**meta, **summary, "results": results}, indent=2))
    header = (
        f"Notifications, {meta['started_at']} - {meta['finished_at']}, {a.reps} round(s), medians; "
        f"N={a.n} latency PUTs, {a.subscribers} subscribers x M={a.m} PUTs; ratio = CSS ÷ ours\n\n"
    )
    (out / "summary.md").write_text(header + md)
    print(header + md)
    print(f"results: {out}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
