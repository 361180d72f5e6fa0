#!/usr/bin/env python3
"""Profile pod-server's hot paths in one process, without HTTP or gunicorn (cProfile).

    bench/profile_hot.py [get_turtle get_jsonld put patch post get_container_1000 ...] [-n 300] [--top 25]

Builds the app as the benchmark runs it (single pod, filesystem backend in a temporary folder,
access log off), prepares the same documents as the shared harness, then calls each scenario's
request ``-n`` times through Flask's test client under cProfile and prints the functions with the
most own time (tottime) and the most cumulative time, with pod-server's share. Container
listings take ``get_container_<N>`` and run fewer times (``max(3, n * 10 // N)``).
Run from the repository root.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pod_server import create_app
from pod_server.config import Settings

DOC_TTL = b"""@prefix foaf: <http://xmlns.com/foaf/0.1/>.
@prefix dct: <http://purl.org/dc/terms/>.

<#me> a foaf:Person;
  foaf:name "Bench Person";
  foaf:mbox <mailto:bench@example.org>;
  dct:description "A small Turtle document for the Solid benchmark.";
  foaf:knows <#alice>, <#bob>.
<#alice> foaf:name "Alice".
<#bob> foaf:name "Bob".
"""
PATCH_N3 = b"""@prefix solid: <http://www.w3.org/ns/solid/terms#>.
@prefix ex: <http://example.org/ns#>.
_:patch a solid:InsertDeletePatch;
  solid:inserts { <#me> ex:counter "1". }.
"""
TTL = {"Content-Type": "text/turtle"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "scenarios",
        nargs="*",
        default=["get_turtle", "get_jsonld", "put", "patch", "post", "get_container_1000"],
    )
    ap.add_argument("-n", type=int, default=300, help="requests per scenario")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--no-cache", action="store_true", help="turn the representation cache off (cold cost)")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="pod-profile-") as tmp:
        settings = Settings(
            base_url="http://localhost:3905/",
            single_pod=True,
            data_dir=Path(tmp),
            access_log=False,
            log_level="WARNING",
        )
        if a.no_cache:
            settings = settings.replace(representation_cache_bytes=0)
        app = create_app(settings)
        client = app.test_client()
        base = "/bench/"

        def check(resp: Any, what: str) -> None:
            body = resp.get_data()  # consume a streamed body: its work happens while it is read
            if resp.status_code >= 300 or (resp.status_code == 200 and not body):
                raise SystemExit(f"{what}: {resp.status_code} {resp.get_data()[:300]!r}")

        for name in ("doc.ttl", "put.ttl", "patch.ttl", "post/.keep.ttl"):
            check(client.put(base + name, data=DOC_TTL, headers=TTL), name)

        requests: dict[str, Callable[[], Any]] = {
            "get_turtle": lambda: client.get(base + "doc.ttl", headers={"Accept": "text/turtle"}),
            "get_jsonld": lambda: client.get(base + "doc.ttl", headers={"Accept": "application/ld+json"}),
            "put": lambda: client.put(base + "put.ttl", data=DOC_TTL, headers=TTL),
            "patch": lambda: client.patch(
                base + "patch.ttl", data=PATCH_N3, headers={"Content-Type": "text/n3"}
            ),
            "post": lambda: client.post(base + "post/", data=DOC_TTL, headers=TTL),
        }
        for scen in a.scenarios:
            count = a.n
            if scen.startswith("get_container_"):
                size = int(scen.rsplit("_", 1)[1])
                cont = f"{base}c{size}/"
                for i in range(size):
                    check(
                        client.put(
                            f"{cont}r{i}.ttl",
                            data=b'<#it> <http://purl.org/dc/terms/title> "c".\n',
                            headers=TTL,
                        ),
                        "child",
                    )
                requests[scen] = partial(client.get, cont, headers={"Accept": "text/turtle"})
                count = max(3, a.n * 10 // size)
            if scen not in requests:
                raise SystemExit(
                    f"unknown scenario {scen!r}; known: {', '.join(requests)}, get_container_<N>"
                )
            call = requests[scen]
            for _ in range(min(20, count)):  # warm caches, as the harness's warm-up does
                check(call(), scen)
            prof = cProfile.Profile()
            t0 = time.perf_counter()
            prof.enable()
            for _ in range(count):
                check(call(), scen)
            prof.disable()
            per = 1000 * (time.perf_counter() - t0) / count
            print(f"\n======== {scen}: {count} requests, {per:.2f} ms each under cProfile ========")
            for key in ("tottime", "cumulative"):
                buf = io.StringIO()
                stats = pstats.Stats(prof, stream=buf)
                stats.sort_stats(key).print_stats(a.top)
                text = buf.getvalue()
                print(f"--- by {key} ---")
                print(text[text.index("   ncalls") :].rstrip() if "   ncalls" in text else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
