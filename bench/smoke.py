#!/usr/bin/env python3
"""Quick check that pod-server answers every request the benchmark makes, before a long run.

    bench/smoke.py [--port 3915]

Starts ``bench/start_ours.sh`` on a spare port (fresh data folder), then: PUT a small Turtle
document, GET it as Turtle and as JSON-LD, N3-PATCH it, POST into a container, GET the container.
Prints one line per request and exits 0 only if every one answered 2xx. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent

DOC = b"""@prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#me> a foaf:Person; foaf:name "Smoke Test".
"""
PATCH = b"""@prefix solid: <http://www.w3.org/ns/solid/terms#>.
@prefix ex: <http://example.org/ns#>.
_:patch a solid:InsertDeletePatch;
  solid:inserts { <#me> ex:counter "1". }.
"""


def call(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return 0, str(e).encode()


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if call("GET", url)[0] == 200:
            return True
        time.sleep(0.1)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=3915)
    a = ap.parse_args()
    base = f"http://localhost:{a.port}/"
    root = tempfile.mkdtemp(prefix="pod-bench-smoke-")
    log_path = Path(root) / "server.log"
    env = dict(os.environ, PORT=str(a.port), OURS_DATA_ROOT=root, POD_SERVER_BASE_URL=base)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(HERE / "start_ours.sh")], stdout=log, stderr=subprocess.STDOUT, env=env)
    ok = True
    try:
        if not wait_up(base, proc):
            print(f"server did not answer 200 on {base}; log:\n{log_path.read_text()[-3000:]}")
            return 1
        doc, cont = base + "smoke/doc.ttl", base + "smoke/posts/"
        steps = [
            ("PUT doc", "PUT", doc, DOC, {"Content-Type": "text/turtle"}),
            ("PUT container child", "PUT", cont + "first.ttl", DOC, {"Content-Type": "text/turtle"}),
            ("GET Turtle", "GET", doc, None, {"Accept": "text/turtle"}),
            ("GET JSON-LD", "GET", doc, None, {"Accept": "application/ld+json"}),
            ("N3 PATCH", "PATCH", doc, PATCH, {"Content-Type": "text/n3"}),
            ("POST", "POST", cont, DOC, {"Content-Type": "text/turtle"}),
            ("GET container", "GET", cont, None, {"Accept": "text/turtle"}),
        ]
        for name, method, url, body, headers in steps:
            status, content = call(method, url, body, headers)
            good = 200 <= status < 300
            ok &= good
            print(f"{'ok ' if good else 'BAD'} {status} {name:<20} {content[:160]!r}")
        if not ok:
            print(f"server log tail:\n{log_path.read_text()[-3000:]}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
