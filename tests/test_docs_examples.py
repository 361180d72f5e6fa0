"""The examples in docs/notifications.md run against a live server: the Python one in-process,
the JavaScript one under Node.js (skipped without node, except under CI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
TURTLE = {"Content-Type": "text/turtle"}


def test_the_python_example_hears_a_change(live: LiveServer) -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import notifications as example  # docs/examples/notifications.py
    finally:
        sys.path.remove(str(EXAMPLES))
    topic = live.fresh() + "watched.ttl"
    requests.put(topic, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
    heard: list[dict[str, Any]] = []
    ready = threading.Event()

    def listen() -> None:
        stream = example.watch(topic)
        ready.set()
        heard.append(next(stream))
        stream.close()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(5)
    deadline = time.monotonic() + 10
    while not heard and time.monotonic() < deadline:  # the generator subscribes on first next()
        requests.put(topic, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
        thread.join(0.5)
    assert heard and (heard[0]["type"], heard[0]["object"]) == ("Update", topic)


def test_the_javascript_example_hears_a_change(live: LiveServer, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have Node.js for the JavaScript example")
        pytest.skip("node is not installed")
    driver = tmp_path / "driver.mjs"
    driver.write_text(
        f'import {{ watch }} from "{(EXAMPLES / "notifications.mjs").as_uri()}";\n'
        "const topic = process.argv[2];\n"
        "await watch(topic, (activity) => { console.log(JSON.stringify(activity)); process.exit(0); });\n"
        'const headers = { "content-type": "text/turtle" };\n'
        'await fetch(topic, { method: "PUT", headers, body: "<#a> <#b> <#c> ." });\n'
        "setTimeout(() => process.exit(3), 8000);\n"
    )
    topic = live.fresh() + "watched.ttl"
    requests.put(topic, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
    done = subprocess.run(
        [node, "--experimental-websocket", str(driver), topic], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    activity = json.loads(done.stdout.strip().splitlines()[-1])
    assert (activity["type"], activity["object"]) == ("Update", topic)


@pytest.mark.parametrize(
    ("name", "fence"), [("notifications.py", "python"), ("notifications.mjs", "javascript")]
)
def test_the_doc_shows_the_tested_examples_verbatim(name: str, fence: str) -> None:
    doc = (ROOT / "docs" / "notifications.md").read_text()
    assert f"```{fence}\n{(EXAMPLES / name).read_text()}```" in doc
