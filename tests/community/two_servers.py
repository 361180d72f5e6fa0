"""Two pod-servers in their own processes (gunicorn, provider mode, 127.0.0.1), and people with
accounts, pods and client-credential sessions on them, made through the public account API only.

The servers trust each other's identity providers the way Solid-OIDC does (issuer named in the
WebID profile); the safe fetcher may reach 127.0.0.1 because tests run on loopback.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from pod_client.session import Session

from tests.live import LiveProcess, free_port, gunicorn_command, server_env


@dataclass(frozen=True)
class Server:
    url: str
    process: LiveProcess


@dataclass(frozen=True)
class User:
    """A person (or a community agent) with an account on ``server``."""

    server: str
    email: str
    password: str
    token: str
    pod: str
    webid: str
    session: Session

    def client_credentials(self, webid: str, name: str) -> tuple[str, str]:
        """``(client_id, client_secret)`` for a WebID of this account, made through the account API."""
        return _client_credentials(self.server, self.token, webid, name)

    def credentials_for(self, webid: str, name: str = "ledger") -> Session:
        """A client-credentials session for another WebID of this account (e.g. its community's)."""
        return Session.client_credentials(self.server, *self.client_credentials(webid, name))


@contextmanager
def two_servers(tmp: Path) -> Iterator[tuple[Server, Server]]:
    """Servers A and B, each with 2 workers, over their own data folders."""
    with ExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            port = free_port()
            env = server_env(tmp / name, port, single_pod="0", fetch_allow_private="1")
            process = stack.enter_context(
                LiveProcess(gunicorn_command(port), env=env, log=tmp / f"{name}.log")
            )
            servers.append((f"http://127.0.0.1:{port}/", process))
        for url, process in servers:
            process.wait_ready(url + ".well-known/openid-configuration")
        yield Server(*servers[0]), Server(*servers[1])


def _client_credentials(server: str, token: str, webid: str, name: str) -> tuple[str, str]:
    made = requests.post(
        server + ".account/api/credentials",
        json={"webid": webid, "name": name},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    made.raise_for_status()
    return made.json()["client_id"], made.json()["client_secret"]


def register(server: Server, pod: str) -> User:
    """An account with one pod named ``pod`` and a client-credentials session for its WebID."""
    api = server.url + ".account/api/"
    email = f"{pod}-{secrets.token_hex(3)}@example.org"
    password = "correct horse battery"
    made = requests.post(
        api + "accounts", json={"email": email, "password": password, "pod": pod}, timeout=10
    )
    made.raise_for_status()
    token = requests.post(api + "login", json={"email": email, "password": password}, timeout=10).json()[
        "token"
    ]
    account = requests.get(api + "account", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    webid = account["pods"][0]["webid"]
    pod_url = account["pods"][0]["pod"]
    session = Session.client_credentials(server.url, *_client_credentials(server.url, token, webid, "e2e"))
    return User(server.url, email, password, token, pod_url, webid, session)


__all__ = ["Server", "User", "register", "two_servers"]
