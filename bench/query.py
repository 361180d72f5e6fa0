#!/usr/bin/env python3
"""The SPARQL endpoint against the usual client-side approach, over one pod of 100,000 triples.

    bench/query.py [--mode provider|open] [--runs 200] [--client-runs 3] [--threads 8] [--out DIR]

Usually run through ``bench/run_query.sh``. Starts our server fresh (``bench/start_ours.sh``),
fills a pod over HTTP with the dataset of ``bench/query_engines.py`` (1,000 Turtle documents,
exactly 100,000 triples, deterministic) by concurrent PUTs into one container, then measures the
queries of ``query_engines.queries`` (the selective patterns, a 3-pattern join, COUNT by type and
a ``GRAPH ?g`` pattern) two ways:

(a) **The endpoint**, ``GET {pod}.well-known/sparql?query=...`` with
    ``Accept: application/sparql-results+json`` (SPARQL 1.1 Protocol §2.1.1), the JSON parsed and
    its rows counted, on one keep-alive connection. The very first query on the fresh server is
    timed on its own (**cold**: the worker loads the pod into its index). Then both gunicorn workers
    are warmed (16 queries over fresh connections, twice), and every query runs ``--runs`` times;
    p50 and p99. In provider mode the requests are anonymous (the data is public-readable, the rest
    of the pod is not: the endpoint decides what is readable for every query), and the selective
    patterns are also run as the pod's owner (DPoP-bound token, a fresh proof per request, the
    proofs signed before the timed loop).
(b) **Client-side**: fetch the same 1,000 documents with ``requests`` (``Accept: text/turtle``),
    once on one ``Session`` one after the other and once on ``--threads`` threads (a ``Session``
    each), parse each into an rdflib ``Dataset`` (one graph per document, default graph = union;
    parsing in the main thread as documents arrive), then run the query with rdflib. The client is
    given the 1,000 URLs (it does not crawl containers). Total per query = fetch + parse + query;
    median of ``--client-runs`` runs.

The targets (issue 7): a selective pattern answers in under 50 ms at p50, and the endpoint is at
least 10x faster than (b).

Modes: ``provider`` (default): provider mode, an account and pod made with the operator CLI
(``bench/provision_ours.sh``), the owner PUTs the documents with a DPoP-bound token (client
credentials, the shared harness's ``solid_auth``) into ``{pod}bench-query/``, whose ACL lets
anyone Read. ``open``: single-pod open mode (no owner, allow-all), anonymous everywhere.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from query_engines import Document, Query, pct, pod_documents, queries  # noqa: E402

TURTLE = "text/turtle"
RESULTS_JSON = "application/sparql-results+json"
SELECTIVE = ("type_filter", "subject")
"""The selective patterns: the 50 ms target; type_filter is the headline."""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- server process
def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def tree_rss_mb(pid: int) -> float:
    total_kb, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(_children(p))
        with contextlib.suppress(OSError), open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    scratch: Path
    cold_start_s: float = 0.0

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
        shutil.rmtree(self.scratch, ignore_errors=True)


def start_server(a: argparse.Namespace, logfile: Path) -> Server:
    base = f"http://localhost:{a.port}/"
    scratch = Path(tempfile.mkdtemp(prefix="query-ours-", dir=a.scratch))
    env = dict(os.environ)
    env.update(
        PORT=str(a.port),
        OURS_DATA_ROOT=str(scratch),
        POD_SERVER_SINGLE_POD="1" if a.mode == "open" else "0",
        POD_SERVER_BASE_URL=base,
    )
    out = open(logfile, "ab")  # noqa: SIM115 - the child keeps it
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(HERE / "start_ours.sh")],
        cwd=str(REPO),
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    server = Server(base, proc, scratch)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            server.stop()
            raise RuntimeError(f"server exited with {proc.returncode}; see {logfile}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(base, timeout=5).status_code < 500:
                break
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{base} did not answer within 60 s")
        time.sleep(0.1)
    server.cold_start_s = time.perf_counter() - t0
    return server


# --------------------------------------------------------------------------- the pod
@dataclass
class Pod:
    root: str  # the storage root: the endpoint is root + ".well-known/sparql"
    container: str  # where the documents go; the dataset's base IRI
    owner_auth: Any = None  # a requests auth for the owner (provider mode)
    key: Any = None
    token: str | None = None

    @property
    def endpoint(self) -> str:
        return self.root + ".well-known/sparql"

    def owner_session(self) -> requests.Session:
        s = requests.Session()
        s.auth = self.owner_auth
        return s


def _public_read_acl(container: str, owner: str) -> bytes:
    # Web Access Control §4: the owner keeps full control; anyone may Read, here and below.
    return f"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
@prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#owner> a acl:Authorization; acl:agent <{owner}>;
  acl:accessTo <{container}>; acl:default <{container}>;
  acl:mode acl:Read, acl:Write, acl:Control.
<#public> a acl:Authorization; acl:agentClass foaf:Agent;
  acl:accessTo <{container}>; acl:default <{container}>;
  acl:mode acl:Read.
""".encode()


def _check(r: requests.Response, what: str) -> None:
    if r.status_code >= 400:
        raise RuntimeError(f"{what}: {r.request.method} {r.url} -> {r.status_code} {r.text[:300]}")


def make_pod(server: Server, a: argparse.Namespace) -> Pod:
    if a.mode == "open":
        return Pod(server.base, server.base + "bench-query/")
    sys.path.insert(0, a.harness)
    from solid_auth import DpopAuth, DpopKey, client_credentials_token  # type: ignore[import-not-found,unused-ignore]

    env = dict(os.environ, OURS_DATA_ROOT=str(server.scratch))
    out = subprocess.run(
        [str(HERE / "provision_ours.sh"), server.base], env=env, check=True, capture_output=True, text=True
    ).stdout
    creds = json.loads(out)
    key = DpopKey()
    token = client_credentials_token(creds["issuer"], creds["client_id"], creds["client_secret"], key)
    pod = Pod(creds["pod"], creds["pod"] + "bench-query/", DpopAuth(token["access_token"], key), key)
    pod.token = token["access_token"]
    owner = pod.owner_session()
    r = owner.put(pod.container, headers={"Content-Type": TURTLE}, data=b"", timeout=60)
    _check(r, "create the bench container")
    r = owner.put(pod.container + ".acl", headers={"Content-Type": TURTLE}, timeout=60,
                  data=_public_read_acl(pod.container, creds["webid"]))  # fmt: skip
    _check(r, "public-read ACL")
    return pod


def fill(pod: Pod, docs: list[Document], threads: int) -> float:
    local = threading.local()

    def put(doc: Document) -> None:
        if not hasattr(local, "http"):
            local.http = pod.owner_session()
        r = local.http.put(pod.container + doc.path, data=doc.turtle.encode(), timeout=120,
                           headers={"Content-Type": TURTLE})  # fmt: skip
        _check(r, "fill")

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, docs))
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- (a) the endpoint
class NoEndpoint(Exception):
    pass


def ask(http: requests.Session, pod: Pod, sparql: str, headers: dict[str, str] | None = None) -> int:
    r = http.get(pod.endpoint, params={"query": sparql}, timeout=120,
                 headers={"Accept": RESULTS_JSON, **(headers or {})})  # fmt: skip
    if r.status_code in (404, 405):
        raise NoEndpoint(f"{pod.endpoint} -> {r.status_code}")
    _check(r, "query")
    return len(r.json()["results"]["bindings"])


def endpoint_bench(pod: Pod, server: Server, qs: list[Query], a: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"rss_before_mb": tree_rss_mb(server.proc.pid), "queries": {}}
    headline = next(q for q in qs if q.key == SELECTIVE[0])
    http = requests.Session()
    t0 = time.perf_counter()
    out["cold_rows"] = ask(http, pod, headline.sparql)
    out["cold_ms"] = (time.perf_counter() - t0) * 1000
    log(f"cold query: {out['cold_ms']:.0f} ms")

    # Warm both workers: fresh connections, concurrently, so the kernel hands some to each.
    def fresh(_: int) -> float:
        with requests.Session() as s:
            t = time.perf_counter()
            ask(s, pod, headline.sparql)
            return (time.perf_counter() - t) * 1000

    warm: list[float] = []
    for _ in range(2):
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            warm += list(pool.map(fresh, range(16)))
    out["warmup_max_ms"] = max(warm)
    out["rss_after_mb"] = tree_rss_mb(server.proc.pid)
    rss = f"{out['rss_before_mb']:.0f} -> {out['rss_after_mb']:.0f} MB"
    log(f"warm-up: slowest {max(warm):.0f} ms; server RSS {rss}")

    for q in qs:
        rows = ask(http, pod, q.sparql)
        times = []
        for _ in range(a.runs):
            t = time.perf_counter()
            ask(http, pod, q.sparql)
            times.append((time.perf_counter() - t) * 1000)
        out["queries"][q.key] = {"rows": rows, **_stats(times)}
        log(f"endpoint {q.key}: {out['queries'][q.key]}")

    if pod.key is not None:  # as the owner: token + DPoP proof per request, signed beforehand
        out["owner"] = {}
        for q in (q for q in qs if q.key in SELECTIVE):
            proofs = [pod.key.proof("GET", pod.endpoint, pod.token) for _ in range(a.runs + 1)]
            auth = {"Authorization": f"DPoP {pod.token}"}
            rows = ask(http, pod, q.sparql, {**auth, "DPoP": proofs.pop()})
            times = []
            for proof in proofs:
                t = time.perf_counter()
                ask(http, pod, q.sparql, {**auth, "DPoP": proof})
                times.append((time.perf_counter() - t) * 1000)
            out["owner"][q.key] = {"rows": rows, **_stats(times)}
            log(f"endpoint as owner {q.key}: {out['owner'][q.key]}")
    return out


def _stats(times_ms: list[float]) -> dict[str, Any]:
    return {"runs": len(times_ms), "p50_ms": statistics.median(times_ms), "p99_ms": pct(times_ms, 99)}


# --------------------------------------------------------------------------- (b) client-side
def client_load(urls: list[str], threads: int) -> tuple[Any, float, float]:
    """Fetch and parse every document; the Dataset, seconds spent fetching (wall), seconds in all."""
    import rdflib

    ds = rdflib.Dataset(default_union=True)
    fetch_s = 0.0
    t0 = time.perf_counter()

    def parse(url: str, body: bytes) -> None:
        ds.graph(rdflib.URIRef(url)).parse(data=body, format="turtle", publicID=url)

    if threads <= 1:
        http = requests.Session()
        for url in urls:
            t = time.perf_counter()
            r = http.get(url, headers={"Accept": TURTLE}, timeout=60)
            _check(r, "client fetch")
            fetch_s += time.perf_counter() - t
            parse(url, r.content)
    else:
        local = threading.local()

        def get(url: str) -> tuple[str, bytes]:
            if not hasattr(local, "http"):
                local.http = requests.Session()
            r = local.http.get(url, headers={"Accept": TURTLE}, timeout=60)
            _check(r, "client fetch")
            return url, r.content

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for fut in concurrent.futures.as_completed([pool.submit(get, u) for u in urls]):
                parse(*fut.result())
        fetch_s = float("nan")  # overlapped with parsing
    return ds, fetch_s, time.perf_counter() - t0


def client_bench(pod: Pod, docs: list[Document], qs: list[Query], a: argparse.Namespace) -> dict[str, Any]:
    warnings.simplefilter("ignore", DeprecationWarning)
    urls = [pod.container + d.path for d in docs]
    out: dict[str, Any] = {}
    for threads in (1, a.threads):
        label = "sequential" if threads == 1 else f"{threads} threads"
        loads: list[float] = []
        fetches: list[float] = []
        per_query: dict[str, list[float]] = {q.key: [] for q in qs}
        rows: dict[str, int] = {}
        for run in range(a.client_runs):
            ds, fetch_s, load_s = client_load(urls, threads)
            loads.append(load_s)
            fetches.append(fetch_s)
            for q in qs:
                t = time.perf_counter()
                rows[q.key] = len(list(ds.query(q.sparql)))
                per_query[q.key].append(load_s + time.perf_counter() - t)
            log(f"client {label} run {run + 1}: fetch+parse {load_s:.2f} s")
            del ds
        out[label] = {
            "load_s": statistics.median(loads),
            "fetch_s": statistics.median(fetches),
            "queries": {k: {"rows": rows[k], "total_s": statistics.median(v)} for k, v in per_query.items()},
        }
    return out


# --------------------------------------------------------------------------- report
def _ms(v: float) -> str:
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def report(r: dict[str, Any], qs: list[Query], a: argparse.Namespace) -> str:
    e, c = r.get("endpoint"), r["client"]
    best = f"{a.threads} threads"
    lines = [
        f"Pod: {r['documents']:,} documents, {r['triples']:,} triples, filled by PUT on {a.threads} threads "
        f"in {r['fill_s']:.1f} s ({a.mode} mode). Server cold start {r['cold_start_s']:.1f} s.",
        "",
    ]
    if e:
        lines += [
            f"Endpoint, first query on the fresh server (the worker loads the pod into its index): "
            f"**{_ms(e['cold_ms'])} ms**; slowest warm-up query (the other worker's first included): "
            f"{_ms(e['warmup_max_ms'])} ms; server RSS {e['rss_before_mb']:.0f} MB before, "
            f"{e['rss_after_mb']:.0f} MB with both workers' indexes loaded.",
            "",
        ]
    lines += [
        f"| query | rows | endpoint p50 / p99 ms ({a.runs} runs) | client-side, {a.threads} threads, s "
        f"| client-side, sequential, s | client ({a.threads} threads) / endpoint p50 |",
        "|---|---|---|---|---|---|",
    ]
    for q in qs:
        cq, sq = c[best]["queries"][q.key], c["sequential"]["queries"][q.key]
        rows = str(cq["rows"])
        if e:
            eq = e["queries"][q.key]
            if eq["rows"] != cq["rows"]:
                rows = f"{eq['rows']} (client: {cq['rows']})"
            ep = f"{_ms(eq['p50_ms'])} / {_ms(eq['p99_ms'])}"
            ratio = f"{cq['total_s'] * 1000 / eq['p50_ms']:,.0f}x"
        else:
            ep, ratio = "(no endpoint)", ""
        lines.append(f"| {q.label} | {rows} | {ep} | {cq['total_s']:.2f} | {sq['total_s']:.2f} | {ratio} |")
    if e and "owner" in e:
        for key, o in e["owner"].items():
            label = next(q.label for q in qs if q.key == key)
            times = f"{_ms(o['p50_ms'])} / {_ms(o['p99_ms'])}"
            lines.append(f"| {label}, as the owner (DPoP) | {o['rows']} | {times} | | | |")
    lines += [
        "",
        f"Client-side fetch + parse of the 1,000 documents (median of {a.client_runs}): "
        f"{c[best]['load_s']:.2f} s on {a.threads} threads; {c['sequential']['load_s']:.2f} s sequential, "
        f"of which {c['sequential']['fetch_s']:.2f} s fetching.",
    ]
    if e:
        h = e["queries"][SELECTIVE[0]]
        ratio = c[best]["queries"][SELECTIVE[0]]["total_s"] * 1000 / h["p50_ms"]
        met1 = "met" if h["p50_ms"] < 50 else "missed"
        met2 = "met" if ratio >= 10 else "missed"
        lines += [
            "",
            f"Targets: selective pattern (type + property filter) p50 {_ms(h['p50_ms'])} ms < 50 ms: "
            f"**{met1}**; "
            f"endpoint {ratio:,.0f}x faster than client-side on {a.threads} threads (>= 10x): **{met2}**.",
        ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("provider", "open"), default="provider")
    ap.add_argument("--runs", type=int, default=200, help="endpoint runs per query (200)")
    ap.add_argument("--client-runs", type=int, default=3, help="client-side runs per fetch mode (3)")
    ap.add_argument("--threads", type=int, default=8, help="threads for filling and client fetching (8)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--port", type=int, default=3905)
    ap.add_argument("--scratch", default=os.path.join(tempfile.gettempdir(), "pod-bench"))
    ap.add_argument("--harness", default=str((REPO / ".." / "shared" / "bench").resolve()))
    ap.add_argument("--out", default=None, help="results folder (default: $scratch/results/query-<stamp>)")
    ap.add_argument("--skip-endpoint", action="store_true", help="client-side only")
    a = ap.parse_args()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(a.out or Path(a.scratch) / "results" / f"query-{stamp}")
    out.mkdir(parents=True, exist_ok=True)
    Path(a.scratch).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    server = start_server(a, out / "server.log")
    try:
        log(f"server up in {server.cold_start_s:.1f} s at {server.base}")
        pod = make_pod(server, a)
        docs = pod_documents(pod.container, a.seed)
        qs = queries(pod.container)
        fill_s = fill(pod, docs, a.threads)
        log(f"filled {len(docs)} documents in {fill_s:.1f} s")
        result: dict[str, Any] = {
            "mode": a.mode,
            "documents": len(docs),
            "triples": sum(d.triples for d in docs),
            "fill_s": fill_s,
            "cold_start_s": server.cold_start_s,
            "endpoint": None,
        }
        if not a.skip_endpoint:
            try:
                result["endpoint"] = endpoint_bench(pod, server, qs, a)
            except NoEndpoint as exc:
                log(f"no SPARQL endpoint ({exc}): client-side only")
        result["client"] = client_bench(pod, docs, qs, a)
    finally:
        server.stop()
    result["elapsed_s"] = time.perf_counter() - started
    (out / "results.json").write_text(json.dumps(result, indent=1))
    text = report(result, qs, a) + f"\n\n(run time {result['elapsed_s'] / 60:.1f} min; results in {out})"
    (out / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
