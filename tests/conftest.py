"""Shared fixtures: a live pod-server on 127.0.0.1 in a thread, spoken to over real HTTP."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from pod_server import create_app
from pod_server.config import Settings

PROTOCOL_BACKEND = os.environ.get("POD_SERVER_TEST_BACKEND", "filesystem")
"""The backend protocol tests run on: the default one unless told otherwise."""


@dataclass
class LiveServer:
    url: str
    app: Flask
    http: requests.Session

    def fresh(self, kind: str = "t") -> str:
        """A new, unused container URL under the root: tests stay out of each other's way."""
        return f"{self.url}{kind}-{uuid.uuid4().hex[:10]}/"


def _serve(tmp: Path, **overrides: object) -> Iterator[LiveServer]:
    # Bind first (port 0: the OS picks), then build the app with the real base URL.
    probe = make_server("127.0.0.1", 0, Flask("probe"))
    port = probe.server_port
    probe.server_close()
    overrides.setdefault("backend", PROTOCOL_BACKEND)
    settings = Settings(base_url=f"http://127.0.0.1:{port}/", port=port, data_dir=tmp, **overrides)  # type: ignore[arg-type]
    app = create_app(settings)
    server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    http = requests.Session()
    try:
        yield LiveServer(settings.base_url, app, http)
    finally:
        http.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A single-pod server on the default (filesystem) backend: the root is the storage."""
    yield from _serve(tmp_path_factory.mktemp("live"), single_pod=True)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A provider-mode server: pods at /{name}/."""
    yield from _serve(tmp_path_factory.mktemp("provider"), single_pod=False)
