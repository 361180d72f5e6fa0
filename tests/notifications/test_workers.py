"""Under gunicorn with two workers, a change made through one worker reaches WebSocket
subscribers held by the other: through the real Redis at 127.0.0.1:6379 (pub/sub), and without
Redis through the workers' own bus (Unix sockets in the data folder).

Several subscribers connect (each lands on one worker); writes are sent on fresh connections
until both workers have served some (the access log's ``pid`` says which). Every subscriber must
hear every write, so each has heard writes made by the other worker.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from tests.live import LiveProcess, free_port, gunicorn_command, read_access_lines, server_env
from tests.notifications.helpers import Hook, connect, receive_json, subscribe
from tests.redis import redis_url_or_skip

pytestmark = pytest.mark.slow

SUBSCRIBERS = 6
WRITERS: dict[str, int] = {}
"""ETag written -> pid of the worker that wrote it (filled by _run)."""
TURTLE = {"Content-Type": "text/turtle", "Connection": "close"}


def _run(tmp_path: Path, hook: Hook | None = None, **env: str) -> tuple[set[int], list[list[str]], list[str]]:
    """(pids that served the writes, what each subscriber heard, the ETags written)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    with LiveProcess(
        gunicorn_command(port), env=server_env(tmp_path / "data", port, **env), log=log
    ) as server:
        server.wait_ready(base)
        doc = f"{base}shared-{uuid.uuid4().hex[:6]}.ttl"
        sockets = []
        for _ in range(SUBSCRIBERS):
            answer = subscribe(base, "WebSocketChannel2023", doc)
            assert answer.status_code == 200, answer.text
            sockets.append(connect(answer.json()["receiveFrom"]))
        if hook is not None:
            answer = subscribe(base, "WebhookChannel2023", doc, sendTo=hook.url)
            assert answer.status_code == 200, answer.text
        try:
            ids: list[str] = []
            etags: list[str] = []
            pids: set[int] = set()
            for n in range(40):
                request_id = uuid.uuid4().hex
                r = requests.put(
                    doc, data=f"<#a> <#b> {n} .", headers={**TURTLE, "X-Request-Id": request_id}, timeout=10
                )
                assert r.status_code in (201, 204)
                ids.append(request_id)
                etags.append(r.headers["ETag"])
                pids = {line["pid"] for line in read_access_lines(log) if line["id"] in ids}
                if len(pids) >= 2 and n >= 5:
                    break
            heard: list[list[str]] = []
            for ws in sockets:
                got: list[str] = []
                try:
                    while len(got) < len(etags):
                        got.append(receive_json(ws, timeout=3)["state"])
                except Exception:
                    pass
                heard.append(got)
            by_id = {line["id"]: line["pid"] for line in read_access_lines(log)}
            WRITERS.update({etag: by_id[request_id] for etag, request_id in zip(etags, ids, strict=True)})
            return pids, heard, etags
        finally:
            for ws in sockets:
                ws.close()


def test_a_change_through_one_worker_reaches_subscribers_on_the_other(tmp_path: Path) -> None:
    redis_url = redis_url_or_skip()
    with Hook() as hook:
        pids, heard, etags = _run(tmp_path, hook, redis_url=redis_url, fetch_allow_hosts="127.0.0.1")
        posted = [hook.next()[1]["state"] for _ in etags]
        assert hook.received.empty()
    assert len(pids) == 2, "the writes never reached both workers"
    for got in heard:
        # Every write, once, whichever worker made it. Order is kept per worker; between workers
        # two close writes may arrive either way round (each worker publishes on its own).
        assert sorted(got) == sorted(etags)
        for pid in pids:
            assert [e for e in got if WRITERS[e] == pid] == [e for e in etags if WRITERS[e] == pid]
    # Each write's webhook is posted once, by the worker that made it (order across workers may vary).
    assert sorted(posted) == sorted(etags)


def test_without_redis_the_workers_of_one_machine_share_changes(tmp_path: Path) -> None:
    """The default: no Redis; the workers' bus is Unix sockets in the data folder."""
    pids, heard, etags = _run(tmp_path)
    assert len(pids) == 2, "the writes never reached both workers"
    for got in heard:
        assert sorted(got) == sorted(etags)
