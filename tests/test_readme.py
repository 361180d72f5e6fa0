"""The README is true: its two set-up commands are the ones we run, and its curl tour works."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.live import REPO, LiveProcess, free_port, pod_server_command, server_env

README = (REPO / "README.md").read_text()


def _tour() -> str:
    marker = README.index("<!-- tour:")
    match = re.compile(r"```bash\n(.*?)```", re.S).search(README, marker)
    assert match, "the README's tour block is missing"
    return match.group(1)


def test_the_two_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    assert "pip install -e . && pod-server serve\n" in blocks
    assert 'pip install -e ".[test]" && scripts/check\n' in blocks
    ci = (REPO / ".ci" / "run").read_text()
    assert 'pip install -q --disable-pip-version-check -e ".[test]"' in ci
    assert "\nscripts/check" in ci


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the tour uses curl, which is not installed")
def test_curl_tour(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(tmp_path / "data", port)
    command = pod_server_command(
        "serve", "--single-pod", "--port", str(port), "--base-url", f"http://localhost:{port}/"
    )
    with LiveProcess(command, env=env, log=tmp_path / "server.log") as server:
        server.wait_ready(f"http://127.0.0.1:{port}/")
        script = "set -euo pipefail\n" + _tour().replace("localhost:3000", f"localhost:{port}")
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr + done.stdout + server.output()
    out = done.stdout
    assert '"Hello, pod"' in out  # Turtle
    assert '"@context"' in out and "Hello, pod" in out  # JSON-LD
    assert f"<http://localhost:{port}/notes/hello.ttl>" in out  # the container lists it
    assert re.search(rf"(?im)^location: http://localhost:{port}/notes/picture\.png", out)
    assert re.search(r'(?im)^link: .*rel="describedby"', out)
    assert '"me"' in out  # the patch landed
