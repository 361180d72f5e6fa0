"""Two gunicorn workers share the DPoP replay cache through Redis (RFC 9449 §11.1).

A proof accepted by one worker is refused by the other: the same proof is replayed on fresh
connections until a worker other than the one that accepted it has answered (the access log's
``pid`` tells which worker served a request). Uses the real Redis on 127.0.0.1:6379; without one
the test is skipped, except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests import redis as redis_module
from tests.idp.helpers import DpopKey
from tests.live import (
    LiveProcess,
    free_port,
    gunicorn_command,
    pod_server_command,
    read_access_lines,
    server_env,
)

pytestmark = pytest.mark.slow

REDIS_URL = redis_module.REDIS_URL


def redis_or_skip() -> None:
    redis_module.redis_url_or_skip()


def ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def tagged(url: str, headers: dict[str, str]) -> tuple[str, requests.Response]:
    request_id = uuid.uuid4().hex
    answer = requests.get(
        url, headers={**headers, "X-Request-Id": request_id, "Connection": "close"}, timeout=10
    )
    return request_id, answer


def test_a_proof_replayed_against_the_other_worker_is_refused(tmp_path: Path) -> None:
    redis_or_skip()
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    env = server_env(tmp_path / "data", port, redis_url=REDIS_URL)
    made = subprocess.run(
        pod_server_command(
            "account", "create", "--email", "owner@example.org", "--password", "correct horse battery staple",
            "--pod", "root", "--credentials", "--json",
        ),
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    account = json.loads(made.stdout)
    with LiveProcess(gunicorn_command(port), env=env, log=log) as server:
        server.wait_ready(base)
        key = DpopKey()
        token_url = base + ".oidc/token"
        answer = requests.post(
            token_url,
            auth=(account["client_id"], account["client_secret"]),
            headers={"DPoP": key.proof("POST", token_url)},
            data={"grant_type": "client_credentials", "scope": "openid webid"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]

        other_worker_refused = False
        with ThreadPoolExecutor(8) as pool:
            for _attempt in range(20):
                proof = {"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", base, ath=ath(token))}
                first_id, first = tagged(base, proof)
                assert first.status_code == 200, first.text
                replays = list(pool.map(tagged, [base] * 8, [proof] * 8))
                for _, replay in replays:
                    assert replay.status_code == 401, replay.text
                    assert "jti" in replay.headers["WWW-Authenticate"]
                pids = {line["id"]: line["pid"] for line in read_access_lines(log)}
                if any(pids[rid] != pids[first_id] for rid, _ in replays):
                    other_worker_refused = True
                    break
        assert other_worker_refused, "every replay landed on the worker that accepted the proof"
        assert len({line["pid"] for line in read_access_lines(log)}) == 2
