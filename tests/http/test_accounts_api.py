"""The JSON account API over real HTTP (docs/accounts.md): bearer tokens, problems, every operation."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pod_server.accounts.webid_proof import WebIdVerifier, through
from pod_server.errors import NotFound
from pod_server.fetch import FetchPolicy, SafeFetcher
from tests.access.helpers import Person, log_in
from tests.conftest import LiveServer, _serve

PASSWORD = "correct horse battery"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    for live in _serve(tmp_path_factory.mktemp("accounts-api"), single_pod=False):
        directory = live.app.extensions["pod_server.accounts"]
        directory.verifier = WebIdVerifier(live.url, through(SafeFetcher(FetchPolicy(allow_private=True))))
        yield live


def _api(server: LiveServer) -> str:
    return server.url + ".account/api/"


def _account(server: LiveServer, pod: bool = True) -> tuple[dict[str, str], dict[str, Any], str]:
    """Register (with a pod) and log in: (bearer headers, account JSON, email)."""
    email = f"u{uuid.uuid4().hex[:10]}@example.org"
    body = {"email": email, "password": PASSWORD}
    if pod:
        body["pod"] = f"p{uuid.uuid4().hex[:10]}"
    r = requests.post(_api(server) + "accounts", json=body)
    assert r.status_code == 201, r.text
    r = requests.post(_api(server) + "login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['token']}"}, r.json()["account"], email


def test_register_login_and_read_the_account(server: LiveServer) -> None:
    auth, account, email = _account(server)
    assert account["email"] == email and len(account["pods"]) == 1
    pod = account["pods"][0]
    assert pod["webid"] == pod["pod"] + "profile/card#me"
    assert account["webids"] == [{"webid": pod["webid"], "kind": "own", "verified": True}]
    me = requests.get(_api(server) + "account", headers=auth).json()
    assert me == account


def test_logout_revokes_the_token(server: LiveServer) -> None:
    auth, _, _ = _account(server)
    assert requests.post(_api(server) + "logout", headers=auth).status_code == 204
    r = requests.get(_api(server) + "account", headers=auth)
    assert r.status_code == 401 and r.headers["Content-Type"] == PROBLEM


def test_pods_and_credentials(server: LiveServer) -> None:
    auth, _, _ = _account(server, pod=False)
    name = f"p{uuid.uuid4().hex[:10]}"
    r = requests.post(_api(server) + "pods", json={"name": name}, headers=auth)
    assert r.status_code == 201 and r.json()["pod"] == f"{server.url}{name}/"
    assert requests.post(_api(server) + "pods", json={"name": name}, headers=auth).status_code == 409
    assert [p["pod"] for p in requests.get(_api(server) + "pods", headers=auth).json()] == [
        f"{server.url}{name}/"
    ]
    r = requests.post(_api(server) + "credentials", json={"name": "ci"}, headers=auth)
    assert r.status_code == 201
    made = r.json()
    assert set(made) == {"client_id", "client_secret", "webid", "name", "issuer"}
    assert made["webid"] == f"{server.url}{name}/profile/card#me" and made["issuer"] == server.url
    directory = server.app.extensions["pod_server.accounts"]
    assert directory.check_client_secret(made["client_id"], made["client_secret"]) is not None
    assert requests.delete(_api(server) + f"credentials/{made['client_id']}", headers=auth).status_code == 204
    assert requests.delete(_api(server) + f"credentials/{made['client_id']}", headers=auth).status_code == 404
    assert directory.check_client_secret(made["client_id"], made["client_secret"]) is None


def test_password_change(server: LiveServer) -> None:
    auth, _, email = _account(server)
    url = _api(server) + "password"
    r = requests.post(
        url, json={"current_password": "wrong password", "new_password": "another one"}, headers=auth
    )
    assert r.status_code == 403
    r = requests.post(url, json={"current_password": PASSWORD, "new_password": "another one"}, headers=auth)
    assert r.status_code == 204
    assert requests.get(_api(server) + "account", headers=auth).status_code == 401  # tokens were revoked
    r = requests.post(_api(server) + "login", json={"email": email, "password": "another one"})
    assert r.status_code == 200


@pytest.mark.parametrize("choice", ["export", "delete"])
def test_delete_account(server: LiveServer, choice: str) -> None:
    auth, account, email = _account(server)
    pod = account["pods"][0]["pod"]
    owner = log_in(server, Person(server, email, account["id"], account["pods"][0]["webid"], pod))
    assert owner.put(pod + "a.txt", b"hi", {"Content-Type": "text/plain"}).status_code == 201
    r = requests.post(
        _api(server) + "account/delete", json={"password": PASSWORD, "pods": choice}, headers=auth
    )
    if choice == "export":
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
        name = account["pods"][0]["name"]
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            assert z.read(f"{name}/a.txt") == b"hi"
    else:
        assert r.status_code == 204
    assert requests.get(pod).status_code == 401  # like any resource nobody may read
    with pytest.raises(NotFound):
        server.app.extensions["pod_server.store"].stat(pod[len(server.url) - 1 :])
    assert (
        requests.post(_api(server) + "login", json={"email": email, "password": PASSWORD}).status_code == 403
    )


def test_link_external_webid(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    auth, _, _ = _account(server, pod=False)
    for elsewhere in _serve(tmp_path_factory.mktemp("elsewhere-api"), single_pod=True):
        doc = elsewhere.url + "card"
        webid = doc + "#me"
        requests.put(
            doc, data=b"<#me> a <http://xmlns.com/foaf/0.1/Person> .", headers={"Content-Type": "text/turtle"}
        )
        r = requests.post(_api(server) + "webids", json={"webid": webid}, headers=auth)
        assert r.status_code == 201 and r.json()["issuer"] == server.url
        triple = r.json()["triple"]
        assert (
            requests.post(_api(server) + "webids/verify", json={"webid": webid}, headers=auth).status_code
            == 403
        )
        requests.put(doc, data=triple.encode(), headers={"Content-Type": "text/turtle"})
        r = requests.post(_api(server) + "webids/verify", json={"webid": webid}, headers=auth)
        assert r.status_code == 200 and r.json() == {"webid": webid, "kind": "external", "verified": True}


BAD: list[tuple[str, str, Any, int]] = [
    ("post", "accounts", {"email": "x"}, 400),
    ("post", "accounts", {"email": "bad", "password": PASSWORD}, 400),
    ("post", "accounts", {"email": "a@example.org", "password": 12345678}, 400),
    ("post", "accounts", {"email": "a@example.org", "password": "short"}, 400),
    ("post", "accounts", {"email": "a@example.org", "password": PASSWORD, "pod": "Bad Name"}, 400),
    ("post", "accounts", ["not", "an", "object"], 400),
    ("post", "login", {"email": "nobody@example.org"}, 400),
    ("post", "login", {"email": "nobody@example.org", "password": "whatever1"}, 403),
    ("post", "pods", {"name": "../x"}, 400),
    ("post", "pods", {}, 400),
    ("post", "credentials", {"webid": "https://elsewhere.example/#me"}, 400),
    ("post", "webids", {"webid": "not a url"}, 400),
    ("post", "webids/verify", {"webid": "https://never-started.example/#me"}, 404),
    ("post", "password", {"new_password": "x"}, 400),
    ("post", "account/delete", {"password": PASSWORD, "pods": "keep"}, 400),
    ("delete", "credentials/unknown", None, 404),
]


@pytest.mark.parametrize("method,path,body,status", BAD)
def test_bad_input_is_a_clear_problem(
    server: LiveServer, method: str, path: str, body: Any, status: int
) -> None:
    auth, _, _ = _account(server)
    r = requests.request(method, _api(server) + path, json=body, headers=auth)
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == PROBLEM and r.json()["detail"]
    assert requests.get(_api(server) + "account", headers=auth).status_code == 200  # nothing else changed


def test_not_json_is_415(server: LiveServer) -> None:
    r = requests.post(_api(server) + "login", data="email=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.headers["Content-Type"] == PROBLEM


@pytest.mark.parametrize("header", ["Bearer nope", "Basic abc", "Bearer "])
def test_bad_bearer_tokens_are_401(server: LiveServer, header: str) -> None:
    r = requests.get(_api(server) + "account", headers={"Authorization": header})
    assert r.status_code == 401 and r.headers["Content-Type"] == PROBLEM


def test_no_credentials_is_401(server: LiveServer) -> None:
    assert requests.get(_api(server) + "account").status_code == 401
