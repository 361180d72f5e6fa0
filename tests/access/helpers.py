"""Test-side agents that speak to a live server as a person: DPoP-bound access tokens from our own
identity provider (client credentials, as scripts get them), a fresh DPoP proof for every request.
Written against RFC 9449 with joserfc (tests/idp/helpers.py), not with pod_server's code."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from tests.conftest import LiveServer
from tests.idp.helpers import DpopKey

TURTLE = {"Content-Type": "text/turtle"}
SPARQL = {"Content-Type": "application/sparql-update"}


@dataclass
class Person:
    """An account with a pod on ``server``; ``pod`` is the pod's URL."""

    server: LiveServer
    email: str
    account_id: str
    webid: str
    pod: str


def make_person(server: LiveServer, name: str = "p") -> Person:
    directory = server.app.extensions["pod_server.accounts"]
    email = f"{name}{uuid.uuid4().hex[:8]}@example.org"
    account = directory.register(email, "correct horse battery staple")
    pod = directory.create_pod(account.id, name + uuid.uuid4().hex[:8])
    return Person(server, email, account.id, pod.webid, pod.url)


@dataclass
class Agent:
    """Sends requests with ``Authorization: DPoP <token>`` and a fresh proof each time; the
    public when ``token`` is ``None``. ``origin`` adds an Origin header (a browser app)."""

    token: str | None = None
    key: DpopKey = field(default_factory=DpopKey)
    client_id: str | None = None
    webid: str | None = None
    origin: str | None = None

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if self.token is not None:
            parts = urlsplit(url)
            htu = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
            headers["Authorization"] = f"DPoP {self.token}"
            headers["DPoP"] = self.key.proof(method, htu)
        if self.origin is not None:
            headers["Origin"] = self.origin
        kw.setdefault("timeout", 10)
        return requests.request(method, url, headers=headers, **kw)

    def get(self, url: str, **kw: Any) -> requests.Response:
        return self.request("GET", url, **kw)

    def head(self, url: str, **kw: Any) -> requests.Response:
        return self.request("HEAD", url, **kw)

    def put(self, url: str, data: bytes | str, headers: dict[str, str] | None = None) -> requests.Response:
        return self.request("PUT", url, data=data, headers=headers or TURTLE)

    def post(self, url: str, data: bytes | str, headers: dict[str, str] | None = None) -> requests.Response:
        return self.request("POST", url, data=data, headers=headers or TURTLE)

    def patch(self, url: str, data: str, headers: dict[str, str] | None = None) -> requests.Response:
        return self.request("PATCH", url, data=data, headers=headers or SPARQL)

    def delete(self, url: str) -> requests.Response:
        return self.request("DELETE", url)

    def from_origin(self, origin: str) -> Agent:
        return Agent(self.token, self.key, self.client_id, self.webid, origin)


PUBLIC = Agent()


def _basic(client_id: str, secret: str) -> str:
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def log_in(server: LiveServer, person: Person, app: str = "script") -> Agent:
    """A client-credentials token for ``person`` (a new client id per call: one per "app")."""
    directory = server.app.extensions["pod_server.accounts"]
    made = directory.create_credential(person.account_id, person.webid, app)
    return with_credentials(server.url, made.client_id, made.client_secret, person.webid)


def with_credentials(issuer: str, client_id: str, secret: str, webid: str | None = None) -> Agent:
    """An agent holding a DPoP-bound token from ``issuer``'s token endpoint (client credentials)."""
    key = DpopKey()
    url = issuer + ".oidc/token"
    answer = requests.post(
        url,
        data={"grant_type": "client_credentials", "scope": "openid webid"},
        headers={"Authorization": _basic(client_id, secret), "DPoP": key.proof("POST", url)},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return Agent(answer.json()["access_token"], key, client_id, webid)
