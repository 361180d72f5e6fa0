"""pod_client.session against a live provider-mode pod-server: client credentials, the interactive
login (driven by requests, and by headless Chromium), DPoP proofs on every request, nonce
challenges, refresh before expiry, and the 0600 token cache."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey
from pod_client.errors import NotAuthenticated, PodClientError
from pod_client.session import Session

from tests.access.helpers import Person, make_person
from tests.browser import headless_chromium, wait_for
from tests.conftest import LiveServer, _serve
from tests.idp.helpers import app_site, consent, follow_to, log_in, query_of

PASSWORD = "correct horse battery staple"  # what make_person registers with


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("session"), single_pod=False, fetch_allow_hosts=("127.0.0.1",))


@pytest.fixture(scope="module")
def person(server: LiveServer) -> Person:
    return make_person(server)


@pytest.fixture(scope="module")
def secret_note(server: LiveServer, person: Person) -> str:
    """An owner-only resource (the pod's default ACL gives the public nothing under private/)."""
    url = f"{person.pod}private/{uuid.uuid4().hex[:8]}.txt"
    writer = log_in_with_credentials(server, person)
    assert (
        writer.request("PUT", url, data=b"only mine", headers={"Content-Type": "text/plain"}).status_code
        == 201
    )
    return url


def log_in_with_credentials(server: LiveServer, person: Person) -> Session:
    made = server.app.extensions["pod_server.accounts"].create_credential(
        person.account_id, person.webid, "app"
    )
    return Session.client_credentials(server.url, made.client_id, made.client_secret)


# -- a tiny HTTP server that records what the session sends ----------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    url: str
    seen: list[Seen]
    answer: Callable[[Seen], tuple[int, dict[str, str]]] = field(default=lambda seen: (200, {}))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    found = Recorder("", [])

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.headers.get("Transfer-Encoding") == "chunked":
                body = b""
                while (size := int(self.rfile.readline().strip(), 16)) > 0:
                    body += self.rfile.read(size)
                    self.rfile.readline()
                self.rfile.readline()
            seen = Seen(self.command, self.path, dict(self.headers.items()), body)
            found.seen.append(seen)
            status, headers = found.answer(seen)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_PUT = do_POST = do_HEAD = _any

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{httpd.server_port}/"
    try:
        yield found
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def proof_of(seen: Seen) -> tuple[dict[str, Any], dict[str, Any]]:
    """The DPoP proof's header and claims, its signature checked with the key in its header."""
    token = seen.headers["DPoP"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    decoded = jwt.decode(token, ECKey.import_key(header["jwk"]), algorithms=["ES256"])
    return header, dict(decoded.claims)


def ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


# -- client credentials ---------------------------------------------------------------------------


def test_client_credentials_read_what_only_the_owner_may(
    server: LiveServer, person: Person, secret_note: str
) -> None:
    session = log_in_with_credentials(server, person)
    assert session.webid == person.webid and session.issuer == server.url
    answer = session.request("GET", secret_note)
    assert answer.status_code == 200 and answer.content == b"only mine"
    assert session.request("GET", person.pod).status_code == 200

    public = Session.anonymous()
    assert public.webid is None
    assert public.request("GET", secret_note).status_code == 401
    assert public.request("GET", person.pod).status_code == 401


def test_a_wrong_secret_is_not_authenticated_with_the_servers_message(
    server: LiveServer, person: Person
) -> None:
    made = server.app.extensions["pod_server.accounts"].create_credential(
        person.account_id, person.webid, "x"
    )
    with pytest.raises(NotAuthenticated, match="client_id or client_secret is wrong") as caught:
        Session.client_credentials(server.url, made.client_id, "not the secret")
    assert caught.value.status == 401
    assert "not the secret" not in str(caught.value)


def test_network_errors_have_no_status() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PodClientError) as caught:
        Session.client_credentials(f"http://127.0.0.1:{port}/", "id", "secret")
    assert caught.value.status is None
    with pytest.raises(PodClientError) as caught:
        Session.anonymous().request("GET", f"http://127.0.0.1:{port}/x")
    assert caught.value.status is None


def test_a_server_that_is_not_a_provider_is_refused(server: LiveServer, person: Person) -> None:
    with pytest.raises(PodClientError, match="not an OpenID provider"):
        Session.client_credentials(person.pod, "id", "secret")


# -- DPoP on every request -----------------------------------------------------------------------


def test_every_request_carries_a_fresh_proof_bound_to_the_token(
    server: LiveServer, person: Person, secret_note: str, recorder: Recorder
) -> None:
    session = log_in_with_credentials(server, person)
    # The server rejects a replayed proof: ten reads in a row all pass.
    assert [session.request("GET", secret_note).status_code for _ in range(10)] == [200] * 10

    session.request("GET", recorder.url + "a/b?x=1#frag")
    session.request("PUT", recorder.url + "c", data=b"body", headers={"Content-Type": "text/plain"})
    token = session._access_token
    assert token is not None
    proofs = [proof_of(seen) for seen in recorder.seen]
    assert all(seen.headers["Authorization"] == f"DPoP {token}" for seen in recorder.seen)
    for (header, claims), (method, path) in zip(proofs, [("GET", "a/b"), ("PUT", "c")], strict=True):
        assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256" and "d" not in header["jwk"]
        assert claims["htm"] == method and claims["htu"] == recorder.url + path  # no query, no fragment
        assert claims["ath"] == ath(token) and abs(claims["iat"] - time.time()) < 10
    assert proofs[0][1]["jti"] != proofs[1][1]["jti"]
    assert recorder.seen[1].body == b"body"


def test_a_dpop_nonce_challenge_is_answered_once(
    server: LiveServer, person: Person, recorder: Recorder
) -> None:
    session = log_in_with_credentials(server, person)

    def challenge_without_nonce(seen: Seen) -> tuple[int, dict[str, str]]:
        if proof_of(seen)[1].get("nonce") == "n-1":
            return 200, {}
        return 401, {"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "n-1"}

    recorder.answer = challenge_without_nonce
    assert session.request("PUT", recorder.url + "r", data=b"again").status_code == 200
    assert [proof_of(seen)[1].get("nonce") for seen in recorder.seen] == [None, "n-1"]
    assert [seen.body for seen in recorder.seen] == [b"again", b"again"]
    # The nonce is kept for that origin: the next request needs no challenge.
    assert session.request("GET", recorder.url + "r").status_code == 200
    assert len(recorder.seen) == 3 and proof_of(recorder.seen[2])[1]["nonce"] == "n-1"

    # Once only: a server that keeps asking gets its 401 back after one retry.
    recorder.seen.clear()
    recorder.answer = lambda seen: (
        401,
        {"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": uuid.uuid4().hex},
    )
    assert session.request("GET", recorder.url + "r").status_code == 401
    assert len(recorder.seen) == 2
    # A stream that cannot rewind is not sent twice.
    recorder.seen.clear()
    assert session.request("PUT", recorder.url + "r", data=iter([b"one ", b"shot"])).status_code == 401
    assert len(recorder.seen) == 1 and recorder.seen[0].body == b"one shot"


def test_redirects_are_followed_with_a_proof_for_each_hop(
    server: LiveServer, person: Person, recorder: Recorder
) -> None:
    session = log_in_with_credentials(server, person)
    elsewhere = recorder.url.replace("127.0.0.1", "localhost")  # the same server, another origin
    recorder.answer = lambda seen: {
        "/from": (307, {"Location": "/to"}),
        "/to": (303, {"Location": elsewhere + "there"}),
    }.get(seen.path, (200, {}))
    answer = session.request("GET", recorder.url + "from")
    assert answer.status_code == 200 and answer.url == elsewhere + "there"
    first, second, third = recorder.seen
    assert [proof_of(seen)[1]["htu"] for seen in (first, second)] == [
        recorder.url + "from",
        recorder.url + "to",
    ]
    assert "Authorization" not in third.headers and "DPoP" not in third.headers  # not to another origin
    # A PUT answered 307 is handed back: its body is the caller's to resend.
    recorder.answer = lambda seen: (307, {"Location": "/elsewhere"})
    assert session.request("PUT", recorder.url + "x", data=b"b").status_code == 307


# -- refresh -------------------------------------------------------------------------------------


def test_a_token_about_to_expire_is_refreshed_before_the_request(
    server: LiveServer, person: Person, secret_note: str
) -> None:
    session = log_in_with_credentials(server, person)
    first = session._access_token
    session.expires_at = time.time() + 30  # within the 60-second margin
    assert session.request("GET", secret_note).status_code == 200
    assert session._access_token != first
    assert session.expires_at is not None and session.expires_at > time.time() + 3000
    second = session._access_token
    assert session.request("GET", secret_note).status_code == 200
    assert session._access_token == second  # not expiring: no refresh


# -- the token cache -------------------------------------------------------------------------------


def test_save_and_load_round_trip_with_mode_0600(
    server: LiveServer, person: Person, secret_note: str, tmp_path: Path
) -> None:
    session = log_in_with_credentials(server, person)
    path = tmp_path / "cache" / "session.json"
    old_umask = os.umask(0)  # even a permissive umask gives 0600
    try:
        session.save(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["session.json"]  # no temporary file left
    saved = json.loads(path.read_text())
    assert saved["webid"] == person.webid and saved["dpop_key"]["d"]

    loaded = Session.load(path)
    assert (loaded.webid, loaded.issuer, loaded.client_id) == (
        session.webid,
        session.issuer,
        session.client_id,
    )
    assert loaded.request("GET", secret_note).status_code == 200
    assert session._access_token not in repr(loaded)

    # An expiring saved token is refreshed on load, and the new one written back (still 0600).
    saved["expires_at"] = time.time() + 5
    path.write_text(json.dumps(saved))
    refreshed = Session.load(path)
    assert refreshed._access_token != saved["access_token"]
    assert json.loads(path.read_text())["access_token"] == refreshed._access_token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert refreshed.request("GET", secret_note).status_code == 200


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_load_refuses_a_file_others_may_access(
    server: LiveServer, person: Person, tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "session.json"
    log_in_with_credentials(server, person).save(path)
    path.chmod(mode)
    with pytest.raises(PodClientError, match="chmod 600"):
        Session.load(path)


def test_load_without_a_file_or_with_garbage(tmp_path: Path) -> None:
    with pytest.raises(PodClientError, match="log in first"):
        Session.load(tmp_path / "missing.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    garbage.chmod(0o600)
    with pytest.raises(PodClientError, match="log in again"):
        Session.load(garbage)


def test_logout_forgets_the_tokens_and_the_cache_file(
    server: LiveServer, person: Person, secret_note: str, tmp_path: Path
) -> None:
    session = log_in_with_credentials(server, person)
    path = tmp_path / "session.json"
    session.save(path)
    session.logout()
    assert session.webid is None and not path.exists()
    assert session.request("GET", secret_note).status_code == 401
    with pytest.raises(NotAuthenticated):
        session.refresh()


# -- the interactive login, its browser played by requests -------------------------------------


def requests_browser(server: LiveServer, email: str, decision: str = "allow") -> Callable[[str], None]:
    """An ``open_browser`` that logs in, consents and follows the redirect, like a person would."""

    def open_browser(url: str) -> None:
        redirect_uri = query_of(url)["redirect_uri"]
        with requests.Session() as http:
            assert log_in(http, server.url, email, PASSWORD).status_code == 303
            page = follow_to(http, url, redirect_uri)
            answer = consent(http, page, decision) if page.status_code == 200 else page
            callback = requests.get(answer.headers["Location"], timeout=5)
            assert callback.status_code == 200 and "text/html" in callback.headers["Content-Type"]

    return open_browser


def test_interactive_login_registers_exchanges_and_refreshes(
    server: LiveServer, person: Person, secret_note: str, tmp_path: Path
) -> None:
    session = Session.interactive(server.url, open_browser=requests_browser(server, person.email), timeout=20)
    assert session.webid == person.webid and session.client_id
    assert session._refresh_token is not None and session._id_token is not None
    assert session.request("GET", secret_note).status_code == 200

    first = session._refresh_token
    session.refresh()  # rotated: the new refresh token is kept
    assert session._refresh_token not in (None, first)
    assert session.request("GET", secret_note).status_code == 200

    # Saved, loaded and refreshed: the file gets the rotated refresh token.
    path = tmp_path / "session.json"
    session.save(path)
    loaded = Session.load(path)
    loaded.refresh()
    assert json.loads(path.read_text())["refresh_token"] == loaded._refresh_token != session._refresh_token
    assert loaded.request("GET", secret_note).status_code == 200


def test_interactive_login_with_a_client_id_document(server: LiveServer, person: Person) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with app_site() as site:
        client_id = site.client_document(name="cli", redirect_uris=[f"http://127.0.0.1:{port}/callback"])
        session = Session.interactive(
            server.url,
            open_browser=requests_browser(server, person.email),
            port=port,
            client_id=client_id,
            timeout=20,
        )
    assert session.client_id == client_id and session.webid == person.webid
    assert session._refresh_token is not None
    session.refresh()


def test_interactive_login_the_person_denies(server: LiveServer, person: Person) -> None:
    with pytest.raises(NotAuthenticated, match="did not allow access"):
        Session.interactive(
            server.url, open_browser=requests_browser(server, person.email, "deny"), timeout=20
        )


def test_interactive_login_rejects_a_forged_answer(server: LiveServer) -> None:
    def forge(url: str) -> None:
        params = query_of(url)
        requests.get(params["redirect_uri"], params={"code": "stolen", "state": "guessed"}, timeout=5)

    with pytest.raises(PodClientError, match="state"):
        Session.interactive(server.url, open_browser=forge, timeout=10)


def test_interactive_login_rejects_an_answer_from_another_issuer(server: LiveServer) -> None:
    def mix_up(url: str) -> None:
        params = query_of(url)
        answer = {"code": "c", "state": params["state"], "iss": "https://evil.example/"}
        requests.get(params["redirect_uri"], params=answer, timeout=5)

    with pytest.raises(PodClientError, match=r"evil\.example"):
        Session.interactive(server.url, open_browser=mix_up, timeout=10)


def test_interactive_login_times_out(server: LiveServer) -> None:
    opened: list[str] = []
    with pytest.raises(PodClientError, match="did not come back within"):
        Session.interactive(server.url, open_browser=opened.append, timeout=0.3)
    assert len(opened) == 1
    redirect_uri = query_of(opened[0])["redirect_uri"]
    with pytest.raises(requests.ConnectionError):  # the listener is gone
        requests.get(redirect_uri, timeout=2)


# -- the interactive login in headless Chromium ---------------------------------------------------


@pytest.fixture
def driver() -> Iterator[Any]:
    yield from headless_chromium()


def test_interactive_login_in_headless_chromium(server: LiveServer, driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    directory = server.app.extensions["pod_server.accounts"]
    email, password = f"c{uuid.uuid4().hex[:8]}@example.org", "a long enough password"
    account = directory.register(email, password)
    webid = directory.create_pod(account.id, "c" + uuid.uuid4().hex[:8]).webid
    failures: list[BaseException] = []
    seen: dict[str, str] = {}

    def log_in_and_consent(url: str) -> None:
        try:
            driver.get(url)
            wait_for(lambda: "/.account/login" in driver.current_url)
            driver.find_element(By.NAME, "email").send_keys(email)
            driver.find_element(By.NAME, "password").send_keys(password)
            driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            wait_for(lambda: "/.oidc/auth" in driver.current_url)
            seen["client"] = driver.find_element(By.ID, "client-name").text
            driver.find_element(By.ID, "allow").click()
            wait_for(lambda: "/callback?" in driver.current_url)
            seen["page"] = driver.find_element(By.TAG_NAME, "h1").text
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)

    threads: list[threading.Thread] = []

    def open_browser(url: str) -> None:
        threads.append(threading.Thread(target=log_in_and_consent, args=(url,), daemon=True))
        threads[0].start()

    session = Session.interactive(
        server.url, open_browser=open_browser, client_name="Chromium test", timeout=60
    )
    threads[0].join(20)
    assert not failures, failures
    assert seen == {"client": "Chromium test", "page": "Logged in"}
    assert session.webid == webid and session._refresh_token is not None

    note = f"{webid.split('profile/')[0]}private/note.txt"
    assert (
        session.request("PUT", note, data=b"mine", headers={"Content-Type": "text/plain"}).status_code == 201
    )
    first = session._refresh_token
    session.refresh()
    assert session._refresh_token not in (None, first)
    assert session.request("GET", note).content == b"mine"
    assert Session.anonymous().request("GET", note).status_code == 401
