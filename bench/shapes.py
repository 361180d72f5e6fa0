#!/usr/bin/env python3
"""What a shape-constrained container costs a write (docs/shapes.md).

    bench/shapes.py [-n 1000] [--rounds 5] [--threads 8] [--port 3907] [--out DIR] [--css css-mem,css-file]

Usually run through ``bench/run_shapes.sh``. Starts our server fresh (``bench/start_ours.sh``:
gunicorn, 2 workers x 8 threads, single-pod open mode, filesystem backend), makes two containers,

(a) ``plain/``, unconstrained, and
(b) ``constrained/``, whose ``.meta`` says ``<./> ldp:constrainedBy
    <https://w3id.org/pod-server/shapes/contribution>`` (the bundled contribution shape, which
    merges the measure shape and has a SHACL-SPARQL constraint),

and PUTs the same realistic contribution document (the model's example, 17 triples) as new
documents into each: ``--rounds`` rounds, each ``-n`` PUTs into (a) then ``-n`` into (b), one
client on one keep-alive connection (latency: p50, p95, mean, and req/s = 1 / mean), after 100
warm-up PUTs into each (both workers load the shapes). Then the same, ``--threads`` clients at
once (throughput, req/s). The ratio b/a is reported for each.

With ``--css``, the anchor: each CSS 7 configuration is started and provisioned as
bench/notifications.py does it (the shared harness's install and helpers; a pod with a public
read-write container), and the same PUTs go into that container. CSS has no shape-constrained
containers, so its PUTs are not validated; the report says how much faster our constrained PUT is.

Finally, in this process, the validation alone: ``ShapeLibrary.validate`` of the parsed document
against the bundled shape, ``-n`` times (p50), which is what (b) adds to a write besides one read of
the cached ``.meta`` metadata. Every PUT must answer 201; any other status stops the run.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TURTLE = {"Content-Type": "text/turtle"}
SHAPE = "https://w3id.org/pod-server/shapes/contribution"

CONTRIBUTION = b"""@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix cbpp: <https://w3id.org/pod-server/cbpp#> .
@prefix kind: <https://w3id.org/pod-server/kinds#> .
@prefix om: <http://www.ontology-of-units-of-measure.org/resource/om-2/> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<#it> a vf:EconomicEvent, cbpp:Contribution ;
    vf:action vf:work ;
    vf:provider <https://alice.example/profile/card#me> ;
    vf:receiver <https://commons.example/profile/card#me> ;
    vf:resourceClassifiedAs kind:documentation, kind:translation ;
    vf:effortQuantity [ a vf:Measure ; vf:hasNumericalValue 3.5 ; vf:hasUnit om:hour ] ;
    vf:hasPointInTime "2026-11-03T16:00:00Z"^^xsd:dateTimeStamp ;
    dct:references <https://git.example/openmaps/tiles/pull/42>,
        <https://git.example/openmaps/tiles/pull/43> ;
    vf:note "Rewrote the install guide and translated it into Spanish" ;
    cbpp:visibility cbpp:CommunityOnly .
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --------------------------------------------------------------------------- server process
class Server:
    def __init__(self, base: str, proc: subprocess.Popen[bytes]) -> None:
        self.base = base
        self.proc = proc

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


def start_server(port: int, scratch: Path, logfile: Path) -> Server:
    base = f"http://localhost:{port}/"
    env = dict(os.environ, PORT=str(port), OURS_DATA_ROOT=str(scratch), POD_SERVER_SINGLE_POD="1",
               POD_SERVER_BASE_URL=base)  # fmt: skip
    with open(logfile, "ab") as out:
        proc = subprocess.Popen([str(HERE / "start_ours.sh")], cwd=str(REPO), env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    server = Server(base, proc)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {logfile}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(base, timeout=5).status_code < 500:
                return server
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{base} did not answer within 60 s")
        time.sleep(0.1)


def _check(r: requests.Response, expected: int = 201) -> None:
    if r.status_code != expected:
        raise RuntimeError(f"{r.request.method} {r.url} -> {r.status_code} {r.text[:500]}")


def setup(base: str) -> dict[str, str]:
    plain, constrained = base + "plain/", base + "constrained/"
    with requests.Session() as http:
        for url in (plain, constrained):
            _check(http.put(url, headers=TURTLE, data=b"", timeout=30))
        meta = f"<./> <http://www.w3.org/ns/ldp#constrainedBy> <{SHAPE}> .".encode()
        _check(http.put(constrained + ".meta", headers=TURTLE, data=meta, timeout=30))
        # The constraint is really there: a non-conforming document is refused.
        refused = b"<#x> a <https://w3id.org/pod-server/cbpp#Contribution> ."
        _check(http.put(constrained + "refused", headers=TURTLE, data=refused, timeout=30), 422)
    return {"a": plain, "b": constrained}


# --------------------------------------------------------------------------- measurements
class Namer:
    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    def next(self, prefix: str) -> str:
        with self._lock:
            self._n += 1
            return f"{prefix}{self._n}"


def put_many(http: requests.Session, container: str, names: Namer, n: int) -> list[float]:
    times = []
    for _ in range(n):
        url = container + names.next("c-")
        t = time.perf_counter()
        r = http.put(url, headers=TURTLE, data=CONTRIBUTION, timeout=60)
        times.append(time.perf_counter() - t)
        _check(r)
    return times


def sequential(containers: dict[str, str], n: int, rounds: int) -> dict[str, list[float]]:
    names = Namer()
    out: dict[str, list[float]] = {key: [] for key in containers}
    with requests.Session() as http:
        for key in containers:
            put_many(http, containers[key], names, 100)  # warm-up
        for r in range(rounds):
            for key in containers:
                out[key] += put_many(http, containers[key], names, n)
            p50s = ", ".join(f"{key} {pct(out[key], 50) * 1000:.2f} ms" for key in containers)
            log(f"sequential round {r + 1}/{rounds}: p50 {p50s}")
    return out


def parallel(containers: dict[str, str], n: int, rounds: int, threads: int) -> dict[str, float]:
    names = Namer()
    totals = dict.fromkeys(containers, 0.0)
    local = threading.local()

    def one(container: str) -> None:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        r = local.http.put(container + names.next("p-"), headers=TURTLE, data=CONTRIBUTION, timeout=60)
        _check(r)

    with concurrent_pool(threads) as pool:
        for _ in range(rounds):
            for key in containers:
                t = time.perf_counter()
                list(pool.map(one, [containers[key]] * n))
                totals[key] += time.perf_counter() - t
    return {key: n * rounds / total for key, total in totals.items()}


def concurrent_pool(threads: int) -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(threads)


def validation_alone(n: int) -> dict[str, float]:
    sys.path.insert(0, os.environ.get("OURS_SRC", str(REPO)))
    from rdflib import Graph

    from pod_server.shapes import ShapeLibrary

    library = ShapeLibrary.bundled(Path(os.environ.get("OURS_SRC", str(REPO))) / "shapes")
    data = Graph()
    data.parse(data=CONTRIBUTION, format="turtle", publicID="http://localhost/constrained/x")
    t = time.perf_counter()
    library.prepared(SHAPE)
    prepare = time.perf_counter() - t
    assert library.validate(data, SHAPE).conforms
    times = []
    for _ in range(n):
        t = time.perf_counter()
        library.validate(data, SHAPE)
        times.append(time.perf_counter() - t)
    parse_times = []
    for _ in range(n):
        t = time.perf_counter()
        Graph().parse(data=CONTRIBUTION, format="turtle", publicID="http://localhost/constrained/x")
        parse_times.append(time.perf_counter() - t)
    return {
        "prepare_ms": prepare * 1000,
        "validate_p50_ms": pct(times, 50) * 1000,
        "validate_p95_ms": pct(times, 95) * 1000,
        "parse_p50_ms": pct(parse_times, 50) * 1000,
    }


def css_lines(seq: dict[str, list[float]], conc: dict[str, float], a: argparse.Namespace) -> list[str]:
    """The anchor: the same PUTs into a public container of CSS 7 (which has no shape-constrained
    containers, so its PUTs are unvalidated), and how our constrained PUT compares."""
    names = [name for name in seq if name.startswith("css")]
    if not names:
        return []
    lines = [
        "The anchor, measured in the same run: the same PUTs into CSS 7.2, which has no shape",
        "support, so its PUTs are unvalidated. The last two columns: how many times faster our",
        "constrained PUT (b) is.",
        "",
        f"| server | p50 ms | p95 ms | req/s (1 client) | req/s ({a.threads} clients) "
        f"| (b) faster, p50 | (b) faster, {a.threads} clients |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        t = seq[name]
        lines.append(
            f"| {name} | {pct(t, 50) * 1000:.2f} | {pct(t, 95) * 1000:.2f} | {1 / statistics.fmean(t):.0f} | "
            f"{conc[name]:.0f} | {pct(t, 50) / pct(seq['b'], 50):.2f}x | {conc['b'] / conc[name]:.2f}x |"
        )
    return [*lines, ""]


def measure_css(a: argparse.Namespace) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Start each of ``--css`` (bench/notifications.py starts and provisions CSS exactly as the
    shared harness does: a pod with a public read-write container) and PUT the same documents."""
    import notifications  # bench/notifications.py: CSS start-up and provisioning, shared

    seq: dict[str, list[float]] = {}
    conc: dict[str, float] = {}
    options = argparse.Namespace(scratch=a.scratch, harness=a.harness, start_timeout=180.0, redis_url="")
    for name in a.css:
        server = notifications.start_server(name, options, Path(a.out_dir) / f"{name}.log")
        try:
            notifications.provision(server, options)
            log(f"{name} up at {server.base}; container {server.container}")
            containers = {name: server.container}
            seq.update(sequential(containers, a.n, a.rounds))
            conc.update(parallel(containers, a.n, a.rounds, a.threads))
        finally:
            server.stop()
    return seq, conc


def report(
    seq: dict[str, list[float]], conc: dict[str, float], alone: dict[str, float], a: argparse.Namespace
) -> str:
    def row(key: str, label: str) -> str:
        t = seq[key]
        mean = statistics.fmean(t)
        return (f"| {label} | {pct(t, 50) * 1000:.2f} | {pct(t, 95) * 1000:.2f} | {mean * 1000:.2f} | "
                f"{1 / mean:.0f} | {conc[key]:.0f} |")  # fmt: skip

    ratio_p50 = pct(seq["b"], 50) / pct(seq["a"], 50)
    ratio_p95 = pct(seq["b"], 95) / pct(seq["a"], 95)
    ratio_rps = conc["a"] / conc["b"]
    lines = [
        f"# Shape-constrained containers: cost of a write ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{a.rounds} rounds x {a.n} PUTs per container, one client (keep-alive); then {a.threads} clients.",
        "",
        "| container | p50 ms | p95 ms | mean ms | req/s (1 client) | req/s ("
        + str(a.threads)
        + " clients) |",
        "|---|---|---|---|---|---|",
        row("a", "(a) unconstrained"),
        row("b", "(b) constrained by shapes/contribution"),
        "",
        f"ratio b/a: p50 {ratio_p50:.2f}, p95 {ratio_p95:.2f}, "
        f"throughput (a/b req/s, {a.threads} clients) {ratio_rps:.2f}",
        "",
        *css_lines(seq, conc, a),
        f"validation alone (in process): p50 {alone['validate_p50_ms']:.2f} ms, "
        f"p95 {alone['validate_p95_ms']:.2f} ms; "
        f"parsing the body (rdflib): p50 {alone['parse_p50_ms']:.2f} ms; first use of the shape "
        f"(parse + merge + pyshacl's shapes): {alone['prepare_ms']:.0f} ms",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1000, help="PUTs per container per round (1000)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--port", type=int, default=3907)
    ap.add_argument("--scratch", default=os.path.join(tempfile.gettempdir(), "pod-bench"))
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--css",
        default="",
        help="also PUT into CSS 7 (comma-separated: css-mem,css-file), installed by ../shared/bench/setup.sh",
    )
    ap.add_argument("--harness", default=str(REPO.parent / "shared" / "bench"))
    a = ap.parse_args()
    a.css = [name for name in a.css.split(",") if name]
    out = Path(
        a.out or Path(a.scratch) / "results" / f"shapes-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    )
    out.mkdir(parents=True, exist_ok=True)
    a.out_dir = str(out)
    scratch = Path(tempfile.mkdtemp(prefix="shapes-ours-", dir=a.scratch))
    server = start_server(a.port, scratch, out / "server.log")
    try:
        containers = setup(server.base)
        log(f"server up at {server.base}; {a.rounds} x {a.n} PUTs per container")
        seq = sequential(containers, a.n, a.rounds)
        conc = parallel(containers, a.n, a.rounds, a.threads)
    finally:
        server.stop()
    if a.css:
        css_seq, css_conc = measure_css(a)
        seq.update(css_seq)
        conc.update(css_conc)
    alone = validation_alone(a.n)
    text = report(seq, conc, alone, a)
    (out / "report.md").write_text(text)
    raw: dict[str, Any] = {"sequential_s": seq, "concurrent_rps": conc, "validation": alone, "args": vars(a)}
    (out / "raw.json").write_text(json.dumps(raw))
    print(text)
    log(f"results in {out}")


if __name__ == "__main__":
    main()
