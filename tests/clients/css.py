"""The Community Solid Server (CSS 7, npm ``@solid/community-server``) as a second, independent
Solid implementation for the client's interop tests (issue 6).

CSS comes from ``npm install`` in tests/interop (package.json pins it). Without ``node`` or the
package the tests skip with the reason, except in CI (``CI=true``), where they fail.

The server runs ``@css:config/file.json``: files in a temporary folder, pods at ``/<name>/``
(each its own storage with a storage description), WAC (``.acl``), the built-in OIDC provider
with client credentials, and every notification channel (WebSocketChannel2023 among them). Its
base URL is ``http://localhost:<port>/``: Solid-OIDC allows a plain-http issuer only there. CSS 7
has no option for the listening address and calls ``listen(port)`` on every interface, so a
one-line ``--require`` shim written next to the data binds it to 127.0.0.1.

People are provisioned through CSS's JSON account API (CSS documentation,
usage/account/json-api.md and usage/client-credentials.md): every answer carries ``controls``
(the URLs of the next steps); creating an account returns a token sent back as
``Authorization: CSS-Account-Token <token>``::

    with running_css(tmp) as css:
        alice = css.person("alice")     # account, password login, pod, client credentials
        Session.client_credentials(alice.issuer, alice.client_id, alice.client_secret)

or, in a test module, ``css = css_fixture()``: one server per module, with two people.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live import REPO, LiveProcess, free_port

INTEROP = REPO / "tests" / "interop"
PACKAGE = INTEROP / "node_modules" / "@solid" / "community-server"
SERVER_JS = PACKAGE / "bin" / "server.js"
CONFIG = "@css:config/file.json"
START_TIMEOUT = 90.0
"""A cold start takes about 10 s (Components.js reads ~900 components); CI machines are slower."""

# Preloaded with ``node --require``: listen(port) without a host becomes listen(port, 127.0.0.1).
_LOOPBACK_SHIM = """\
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  else if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined && !args[0].host)
    args[0] = { ...args[0], host: '127.0.0.1' };
  return listen.apply(this, args);
};
"""


def node_or_skip() -> str:
    """The ``node`` executable, once CSS is installed; skip (or, under CI, fail) otherwise."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not installed (the CSS interop tests need Node.js >= 18)"
    elif not SERVER_JS.is_file():
        missing = "@solid/community-server is missing: run `cd tests/interop && npm install`"
    if missing is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the CSS interop tests: {missing}")
        pytest.skip(missing)
    assert node is not None
    return node


@dataclass(frozen=True)
class CssPerson:
    """An account on CSS with a pod and client credentials for the pod's WebID."""

    issuer: str
    webid: str
    pod: str
    client_id: str
    client_secret: str
    email: str
    password: str


class Css:
    """A running CSS at ``base`` (``http://localhost:<port>/``); its output goes to ``log``."""

    def __init__(self, base: str, process: LiveProcess) -> None:
        self.base = base
        self.process = process
        self.http = requests.Session()

    @property
    def log(self) -> Path:
        return self.process.log

    def output(self) -> str:
        """The end of the server's log, for failure messages."""
        return self.process.output()

    def _call(self, method: str, url: str, token: str | None = None, **kw: Any) -> dict[str, Any]:
        headers = {"Authorization": f"CSS-Account-Token {token}"} if token else {}
        response = self.http.request(method, url, headers=headers, timeout=30, **kw)
        if response.status_code >= 400:
            raise RuntimeError(f"CSS {method} {url} -> {response.status_code}: {response.text[:500]}")
        body: dict[str, Any] = response.json()
        return body

    def person(self, name: str | None = None) -> CssPerson:
        """A new account with an email/password login, a pod called ``name`` (``/<name>/``) and
        client credentials for the pod's WebID (CSS json-api.md: account, password, pod and
        clientCredentials controls)."""
        name = name or f"p{uuid.uuid4().hex[:8]}"
        email, password = f"{name}@example.org", uuid.uuid4().hex
        index = self._call("GET", self.base + ".account/")
        token = self._call("POST", index["controls"]["account"]["create"], json={})["authorization"]
        controls = self._call("GET", self.base + ".account/", token)["controls"]
        self._call("POST", controls["password"]["create"], token, json={"email": email, "password": password})
        pod = self._call("POST", controls["account"]["pod"], token, json={"name": name})
        credentials = self._call(
            "POST",
            controls["account"]["clientCredentials"],
            token,
            json={"name": f"{name}-tests", "webId": pod["webId"]},
        )
        issuer = self._call("GET", self.base + ".well-known/openid-configuration")["issuer"]
        return CssPerson(
            issuer=issuer,
            webid=pod["webId"],
            pod=pod["pod"],
            client_id=credentials["id"],
            client_secret=credentials["secret"],
            email=email,
            password=password,
        )


@contextlib.contextmanager
def running_css(tmp: Path, *, config: str = CONFIG) -> Iterator[Css]:
    """CSS on a free port of 127.0.0.1 over ``tmp/data``, ready to answer; stopped (its whole
    process group) on leaving the block. Skips, or fails under CI, when CSS cannot run here."""
    node = node_or_skip()
    port = free_port()
    base = f"http://localhost:{port}/"
    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    shim = tmp / "loopback.cjs"
    shim.write_text(_LOOPBACK_SHIM)
    command = [
        node, "--require", str(shim), str(SERVER_JS),
        "--config", config, "--rootFilePath", str(data),
        "--port", str(port), "--baseUrl", base, "--loggingLevel", "warn",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSS_")}  # CSS reads CSS_* too
    with LiveProcess(command, env=env, log=tmp / "css.log", cwd=INTEROP, grace=5.0) as process:
        # The account index answers only once the whole app (IdP included) is up. CSS reads the
        # Host header: a request to 127.0.0.1 is "outside the configured identifier space" (500).
        process.wait_ready(base + ".account/", timeout=START_TIMEOUT)
        css = Css(base, process)
        try:
            yield css
        finally:
            css.http.close()


@dataclass(frozen=True)
class CssServer:
    """What :func:`css_fixture` gives a test: the server and two people, each with a pod."""

    css: Css
    owner: CssPerson
    other: CssPerson

    @property
    def base(self) -> str:
        return self.css.base


def css_fixture(*, config: str = CONFIG) -> Callable[..., Iterator[CssServer]]:
    """A module-scoped fixture: one CSS for the module, with an ``owner`` and an ``other``
    person. In a test module: ``css = css_fixture()``."""

    @pytest.fixture(scope="module")
    def css(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CssServer]:
        with running_css(tmp_path_factory.mktemp("css"), config=config) as server:
            yield CssServer(server, server.person("alice"), server.person("bob"))

    return css


__all__ = [
    "CONFIG",
    "SERVER_JS",
    "Css",
    "CssPerson",
    "CssServer",
    "css_fixture",
    "node_or_skip",
    "running_css",
]
