"""pod-server under gunicorn with several worker processes sharing one store.

Writes land in both workers (the access log's ``pid`` tells which served what), and every
resource reads back, byte for byte, through the *other* worker. Metrics in prometheus-client's
multiprocess mode add up both workers. ``pod-server serve`` starts and serves the root.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from rdflib import Graph, URIRef

from pod_server.vocab import LDP
from tests.live import (
    LiveProcess,
    free_port,
    gunicorn_command,
    pod_server_command,
    read_access_lines,
    server_env,
)

pytestmark = pytest.mark.slow

METRICS = ".well-known/pod-server/metrics"
TEXT = {"Content-Type": "text/plain"}


def body_of(name: str) -> bytes:
    return f"{name}: written through gunicorn\n".encode() * 200


def tagged(method: str, url: str, data: bytes | None = None) -> tuple[str, requests.Response]:
    """Send one request on a fresh connection, with our own request id to find its log line."""
    request_id = uuid.uuid4().hex
    headers = {"X-Request-Id": request_id, "Connection": "close", **(TEXT if data is not None else {})}
    response = requests.request(method, url, data=data, headers=headers, timeout=10)
    assert response.headers["X-Request-Id"] == request_id
    return request_id, response


def pids_by_id(log: Path) -> dict[str, int]:
    return {line["id"]: line["pid"] for line in read_access_lines(log)}


def total_requests(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "pod_server_http_requests"
        for sample in family.samples
        if sample.name == "pod_server_http_requests_total"
    )


@pytest.mark.parametrize("backend", ["filesystem", "sql"])
def test_two_workers_share_one_store(tmp_path: Path, backend: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    env = server_env(tmp_path / "data", port, backend=backend, metrics="1")
    with LiveProcess(gunicorn_command(port), env=env, log=log) as server:
        server.wait_ready(base)

        # Write concurrently on fresh connections until both workers have served writes.
        written: dict[str, str] = {}  # url -> request id of its PUT
        with ThreadPoolExecutor(8) as pool:
            for batch in range(10):
                urls = [f"{base}w{batch}/r{i}.txt" for i in range(16)]
                puts = pool.map(lambda u: tagged("PUT", u, body_of(u)), urls)
                for url, (request_id, response) in zip(urls, puts, strict=True):
                    assert response.status_code == 201, response.text
                    written[url] = request_id
                writer = pids_by_id(log)
                if len({writer[rid] for rid in written.values()}) >= 2:
                    break
        writer = pids_by_id(log)
        writer_pids = {writer[rid] for rid in written.values()}
        assert len(writer_pids) == 2, f"writes were served by {writer_pids} only"
        assert server.pid not in writer_pids  # the master serves nothing

        # Read every resource back through the worker that did not write it.
        def read_elsewhere(url: str) -> int:
            for _ in range(300):  # the kernel may hand many connections in a row to one worker
                request_id, response = tagged("GET", url)
                assert response.status_code == 200, response.text
                assert response.content == body_of(url)
                assert response.headers["Content-Type"].startswith("text/plain")
                reader = pids_by_id(log)[request_id]
                if reader != writer[written[url]]:
                    return reader
            raise AssertionError(f"{url} was never served by the other worker")

        with ThreadPoolExecutor(8) as pool:
            readers = set(pool.map(read_elsewhere, written))
        assert readers == writer_pids

        # Each container lists exactly what was written into it.
        for container in {url.rsplit("/", 1)[0] + "/" for url in written}:
            listing = requests.get(container, headers={"Accept": "text/turtle"}, timeout=10)
            assert listing.status_code == 200
            graph = Graph().parse(data=listing.text, format="turtle", publicID=container)
            listed = {str(o) for o in graph.objects(URIRef(container), LDP.contains)}
            assert listed == {url for url in written if url.startswith(container)}

        # Metrics add up the two workers: every request answered so far is counted once.
        scrape = requests.get(base + METRICS, timeout=10)
        assert scrape.status_code == 200, scrape.text
        answered = len(read_access_lines(log)) - 1  # the scrape's own line is written after it
        assert total_requests(scrape.text) == answered
        families = text_string_to_metric_families(scrape.text)
        in_flight = [s.value for f in families for s in f.samples if s.name.endswith("_requests_in_flight")]
        assert in_flight == [1.0]  # the scrape itself, whichever worker serves it


def test_pod_server_serve(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    # A stale per-process file from an earlier run: unreadable, so a scrape fails unless the
    # master wiped the metrics folder before starting workers.
    (data / "metrics").mkdir(parents=True)
    (data / "metrics" / "counter_999999.db").write_bytes(b"")
    command = pod_server_command(
        "serve", "--port", str(port), "--data-dir", str(data), "--metrics", "--log-level", "warning"
    )
    env = server_env(data, port)
    for name in ("POD_SERVER_BASE_URL", "POD_SERVER_SINGLE_POD", "POD_SERVER_DATA_DIR", "POD_SERVER_BACKEND"):
        env.pop(name)
    log = tmp_path / "serve.log"
    with LiveProcess(command, env=env, log=log) as server:
        base = f"http://127.0.0.1:{port}/"
        server.wait_ready(base)
        # Provider mode (the default): anyone may read the server root's listing.
        root = requests.get(base, timeout=10)
        assert root.status_code == 200, root.text
        assert root.headers["X-Request-Id"]
        scrape = requests.get(base + METRICS, timeout=10)
        assert scrape.status_code == 200, scrape.text
        assert total_requests(scrape.text) >= 1
        assert {p.name for p in data.iterdir()} - {"metrics"}, "nothing was stored in --data-dir"
    assert read_access_lines(log) == []  # --log-level warning silences the INFO access lines
