"""Helpers for tests that run pod-server as a real subprocess (gunicorn, ``pod-server serve``).

Everything listens on 127.0.0.1. A server runs in its own process group, so the master and all
its workers can be stopped (or SIGKILLed, for the crash tests) together::

    port = free_port()
    env = server_env(tmp_path / "data", port, backend="filesystem")
    with LiveProcess(gunicorn_command(port), env=env, log=tmp_path / "server.log") as server:
        server.wait_ready(f"http://127.0.0.1:{port}/")
        ...
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(data_dir: Path, port: int, *, backend: str = "filesystem", **extra: str) -> dict[str, str]:
    """The environment for a single-pod server on 127.0.0.1:``port`` over ``data_dir``.

    ``extra`` adds ``POD_SERVER_*`` variables: ``metrics="1"`` sets ``POD_SERVER_METRICS=1``.
    Inherited ``POD_SERVER_*`` variables are dropped so the developer's shell cannot leak in.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("POD_SERVER_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(
        {
            "POD_SERVER_DATA_DIR": str(data_dir),
            "POD_SERVER_BASE_URL": f"http://127.0.0.1:{port}/",
            "POD_SERVER_SINGLE_POD": "1",
            "POD_SERVER_BACKEND": backend,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"POD_SERVER_{k.upper()}": v for k, v in extra.items()})
    return env


def gunicorn_command(
    port: int,
    *,
    workers: int = 2,
    threads: int = 4,
    worker_class: str = "pod_server.gunicorn.Worker",
    app: str = "wsgi:app",
) -> list[str]:
    """``gunicorn -w 2 -k pod_server.gunicorn.Worker --threads 4 -b 127.0.0.1:<port> wsgi:app``
    (run with cwd=REPO); the worker is gthread's, able to hand notification sockets to the hub."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-k",
        worker_class,
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "2",
        app,
    ]


def pod_server_command(*args: str) -> list[str]:
    """The ``pod-server`` console script, or ``python -m pod_server.cli`` when it is not installed."""
    script = shutil.which("pod-server")
    return [script, *args] if script else [sys.executable, "-m", "pod_server.cli", *args]


class LiveProcess:
    """A command running in a new process group, its stdout+stderr going to ``log``.

    Leaving the ``with`` block kills the whole group (SIGTERM, then SIGKILL after ``grace``
    seconds), whatever happened inside it.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        log: Path,
        cwd: Path = REPO,
        grace: float = 3.0,
    ) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.log = log
        self.cwd = cwd
        self.grace = grace
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LiveProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches every worker
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, url: str, timeout: float = 30.0) -> None:
        """Poll ``url`` until the server answers with anything below 500; fail early if it died."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(
                    f"server exited ({self.process and self.process.returncode}):\n{self.output()}"
                )
            try:
                response = requests.get(url, timeout=2)
                if response.status_code < 500:
                    return
                last = response.status_code
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.05)
        raise RuntimeError(f"server not ready after {timeout}s (last: {last}):\n{self.output()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group and, for SIGKILL, reap the leader."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        if sig == signal.SIGKILL:
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(self.grace)
        # The leader may be gone while workers linger: the group gets a SIGKILL regardless.
        self.kill(signal.SIGKILL)

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def access_lines(self) -> list[dict[str, Any]]:
        """The JSON access-log lines the server wrote so far (other output is skipped)."""
        return read_access_lines(self.log)

    def __enter__(self) -> LiveProcess:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def read_access_lines(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "pid" in entry and "id" in entry:
                found.append(entry)
    return found


__all__ = [
    "REPO",
    "LiveProcess",
    "free_port",
    "gunicorn_command",
    "pod_server_command",
    "read_access_lines",
    "server_env",
]
