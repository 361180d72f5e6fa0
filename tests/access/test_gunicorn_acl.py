"""Two gunicorn workers: an ACL changed through one is enforced by the other on its next request
(compiled ACLs are checked against the stored ETag per request; change events stay in-process)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from tests.live import LiveProcess, free_port, gunicorn_command, read_access_lines, server_env

pytestmark = pytest.mark.slow

ACL = "@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"


def fresh_get(url: str) -> tuple[str, int]:
    request_id = uuid.uuid4().hex
    r = requests.get(url, headers={"X-Request-Id": request_id, "Connection": "close"}, timeout=10)
    return request_id, r.status_code


def test_an_acl_change_is_seen_by_the_other_worker(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    # Single-pod mode without an owner: the development pod, open to everyone.
    with LiveProcess(gunicorn_command(port), env=server_env(tmp_path / "data", port), log=log) as server:
        server.wait_ready(base)
        container = f"{base}shared-{uuid.uuid4().hex[:6]}/"
        doc = container + "doc.ttl"
        put = requests.put(doc, data=b"<#a> <#b> <#c> .", headers={"Content-Type": "text/turtle"}, timeout=10)
        assert put.status_code == 201

        def pids_serving(expected: int, rounds: int = 300) -> set[int]:
            """Read until both workers have answered (each having compiled the ACLs it used); a
            loaded machine can give one worker many connections in a row, hence many rounds."""
            ids: list[str] = []
            for _ in range(rounds):
                request_id, status = fresh_get(doc)
                assert status == expected
                ids.append(request_id)
                pids = {line["pid"] for line in read_access_lines(log) if line["id"] in ids}
                if len(pids) >= 2:
                    return pids
            raise AssertionError("only one worker answered")

        def acl(subject: str) -> str:
            return ACL + (
                f"<#r> a acl:Authorization; {subject}; acl:accessTo <{container}>; "
                f"acl:default <{container}>; acl:mode acl:Read, acl:Control ."
            )

        # The container gets an ACL of its own, open to everyone; both workers compile and cache it.
        turtle = {"Content-Type": "text/turtle"}
        r = requests.put(
            container + ".acl", data=acl("acl:agentClass foaf:Agent"), headers=turtle, timeout=10
        )
        assert r.status_code == 201
        assert len(pids_serving(200)) == 2
        # One request, to whichever worker, changes it: only someone else may read now.
        closed = acl("acl:agent <https://someone.example/#me>")
        assert requests.put(container + ".acl", data=closed, headers=turtle, timeout=10).status_code == 204
        # Every later request, in both workers, is refused.
        assert len(pids_serving(401)) == 2
