"""Two gunicorn workers, one data folder: each worker keeps its own query index, and a write made
through one worker reaches the other's index through the notification bus
(NotificationService.add_listener -> QueryIndex.on_message). Across workers that is eventual (the
bus delivers within milliseconds); within one worker a query right after a write sees it."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.live import LiveProcess, free_port, gunicorn_command, read_access_lines, server_env

pytestmark = pytest.mark.slow

CLOSE = {"Connection": "close"}  # a new connection per request, so both workers get some
PATIENCE = 10.0
"""Seconds to wait for both workers to show a write: generous, for a loaded machine."""


def test_writes_through_one_worker_reach_queries_through_the_other(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    with LiveProcess(gunicorn_command(port), env=server_env(tmp_path / "data", port), log=log) as server:
        server.wait_ready(base)
        doc = f"{base}workers-{uuid.uuid4().hex[:6]}.ttl"
        endpoint = base + ".well-known/sparql"
        query = {"query": f"SELECT ?n WHERE {{ GRAPH <{doc}> {{ ?s <http://example.org/n> ?n }} }}"}

        def pid_of(request_id: str) -> int | None:
            return next((e["pid"] for e in read_access_lines(log) if e["id"] == request_id), None)

        writers: set[int | None] = set()
        for n in range(30):  # until writes went through both workers
            write_id = uuid.uuid4().hex
            r = requests.put(
                doc,
                data=f"<#it> <http://example.org/n> {n} .",
                headers={**CLOSE, "Content-Type": "text/turtle", "X-Request-Id": write_id},
                timeout=10,
            )
            assert r.status_code in (201, 204), r.text
            writers.add(pid_of(write_id))
            fresh: set[int | None] = set()  # the workers that have answered with this write
            deadline = time.monotonic() + PATIENCE
            while len(fresh) < 2:
                assert time.monotonic() < deadline, f"write {n} reached only the workers {fresh}"
                read_id = uuid.uuid4().hex
                r = requests.get(
                    endpoint, params=query, headers={**CLOSE, "X-Request-Id": read_id}, timeout=10
                )
                assert r.status_code == 200, r.text
                if [b["n"]["value"] for b in r.json()["results"]["bindings"]] == [str(n)]:
                    fresh.add(pid_of(read_id))
            if len(writers) == 2 and n >= 3:
                break
    assert len(writers) == 2, "the writes never went through both workers"
