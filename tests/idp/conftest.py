"""A live provider-mode server whose safe fetcher may reach 127.0.0.1 (the test app site) and
nothing else private, plus an account with a pod and a site serving Client ID Documents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.conftest import LiveServer, _serve
from tests.idp.helpers import AppSite, app_site


@dataclass
class Person:
    email: str
    password: str
    account_id: str
    webid: str


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(
        tmp_path_factory.mktemp("idp"),
        single_pod=False,
        backend="filesystem",
        fetch_allow_hosts=("127.0.0.1",),
    )


@pytest.fixture(scope="module")
def site() -> Iterator[AppSite]:
    with app_site() as found:
        yield found


def make_person(server: LiveServer) -> Person:
    directory = server.app.extensions["pod_server.accounts"]
    email = f"p{uuid.uuid4().hex[:8]}@example.org"
    password = "correct horse battery staple"
    account = directory.register(email, password)
    pod = directory.create_pod(account.id, "pod" + uuid.uuid4().hex[:8])
    return Person(email, password, account.id, pod.webid)


@pytest.fixture
def person(idp: LiveServer) -> Person:
    return make_person(idp)


@pytest.fixture
def browser(idp: LiveServer) -> Iterator[requests.Session]:
    """A requests session standing in for a browser (cookies kept)."""
    with requests.Session() as http:
        yield http
