"""Accounts over real HTTP: the HTML pages and the JSON API on a live provider-mode server."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.term import Node

from pod_server.accounts.webid_proof import WebIdVerifier, through
from pod_server.errors import NotFound
from pod_server.fetch import FetchPolicy, SafeFetcher
from pod_server.vocab import ACL, FOAF, LDP, PIM, PODSERVER, RDF, SOLID
from tests.access.helpers import Agent, Person, log_in
from tests.conftest import LiveServer, _serve
from tests.http.helpers import links

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    for live in _serve(tmp_path_factory.mktemp("accounts"), single_pod=False):
        # The WebID documents of these tests live on 127.0.0.1: allow it for this server only.
        directory = live.app.extensions["pod_server.accounts"]
        directory.verifier = WebIdVerifier(live.url, through(SafeFetcher(FetchPolicy(allow_private=True))))
        yield live


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second server that hosts "external" WebID documents."""
    yield from _serve(tmp_path_factory.mktemp("elsewhere"), single_pod=True)


def _email() -> str:
    return f"u{uuid.uuid4().hex[:10]}@example.org"


def _pod_name() -> str:
    return f"p{uuid.uuid4().hex[:10]}"


class Browser:
    """A person with a browser: a cookie jar, and forms with their CSRF token."""

    def __init__(self, server: LiveServer) -> None:
        self.url = server.url + ".account/"
        self.http = requests.Session()

    def csrf(self, page: str = "login") -> str:
        html = self.http.get(self.url + page).text
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert found, html
        return found.group(1)

    def post(
        self, page: str, data: dict[str, str], *, form: str | None = None, **kw: object
    ) -> requests.Response:
        token = self.csrf(form if form is not None else page)
        return self.http.post(
            self.url + page, data={"csrf_token": token, **data}, allow_redirects=False, **kw
        )  # type: ignore[arg-type]

    def register(self, email: str, pod: str = "", password: str = PASSWORD) -> requests.Response:
        return self.post("register", {"email": email, "password": password, "pod": pod})

    def login(self, email: str, password: str = PASSWORD, return_to: str | None = None) -> requests.Response:
        data = {"email": email, "password": password}
        if return_to is not None:
            data["return_to"] = return_to
        return self.post("login", data)


def _registered(server: LiveServer, pod: bool = True) -> tuple[Browser, str, str]:
    b = Browser(server)
    email, name = _email(), _pod_name() if pod else ""
    assert b.register(email, name).status_code == 303
    return b, email, name


def _owner(server: LiveServer, email: str, name: str) -> Agent:
    """The pod's owner, logged in with a DPoP-bound token (pods are private by default)."""
    account = server.app.extensions["pod_server.accounts"].find(email)
    pod = f"{server.url}{name}/"
    return log_in(server, Person(server, email, account.id, pod + "profile/card#me", pod))


def _gone(server: LiveServer, name: str) -> bool:
    """The pod no longer exists (over HTTP a missing pod answers like any unreadable one: 401)."""
    try:
        server.app.extensions["pod_server.store"].stat(f"/{name}/")
    except NotFound:
        return requests.get(f"{server.url}{name}/").status_code == 401
    return False


# -- pages render ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "page,labels",
    [
        ("register", ["Email", "Password", "Pod name (optional)"]),
        ("login", ["Email", "Password"]),
    ],
)
def test_public_pages_render_with_labels(server: LiveServer, page: str, labels: list[str]) -> None:
    r = requests.get(f"{server.url}.account/{page}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    for label in labels:
        assert re.search(rf'<label for="[^"]+">{re.escape(label)}</label>', r.text)
    assert "<main" in r.text and "<h1>" in r.text and "<script" not in r.text


def test_account_pages_render_when_logged_in(server: LiveServer) -> None:
    b, _, _ = _registered(server)
    for page, heading in [
        ("", "Your account"),
        ("password", "Change your password"),
        ("delete", "Delete your account"),
    ]:
        r = b.http.get(b.url + page)
        assert r.status_code == 200 and f"<h1>{heading}</h1>" in r.text
    assert 'for="pods-export"' in b.http.get(b.url + "delete").text


@pytest.mark.parametrize("page", ["", "password", "delete"])
def test_account_pages_need_a_login(server: LiveServer, page: str) -> None:
    r = requests.get(f"{server.url}.account/{page}", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("/.account/login?return_to=")


# -- register, log in, log out -----------------------------------------------------------------
def test_register_logs_in_and_makes_the_pod(server: LiveServer) -> None:
    b, email, name = _registered(server)
    page = b.http.get(b.url).text
    assert email in page and f"{server.url}{name}/profile/card#me" in page
    assert requests.get(f"{server.url}{name}/").status_code == 401  # private to its owner
    r = _owner(server, email, name).get(f"{server.url}{name}/")
    assert r.status_code == 200
    assert links(r)[str(SOLID.owner)] == {f"{server.url}{name}/profile/card#me"}
    assert str(PIM.Storage) in links(r)["type"]


def test_register_errors_are_tied_to_their_fields(server: LiveServer) -> None:
    b = Browser(server)
    r = b.register("not-an-email", "Bad Name", password="short")
    assert r.status_code == 400
    for field in ("email", "password", "pod"):
        assert f'id="{field}-error"' in r.text
        assert re.search(
            rf'<input id="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*{field}-error', r.text
        )
    assert 'value="not-an-email"' in r.text and PASSWORD not in r.text


def test_duplicate_email_and_pod_name_are_409(server: LiveServer) -> None:
    _, email, name = _registered(server)
    b = Browser(server)
    r = b.register(email.upper(), _pod_name())
    assert r.status_code == 409 and 'id="email-error"' in r.text
    r = b.register(_email(), name)
    assert r.status_code == 409 and 'id="pod-error"' in r.text
    # Nothing half-made: the email of the failed registration is still free.
    assert b.register(_email(), _pod_name()).status_code == 303


def test_login_logout_and_return_to(server: LiveServer) -> None:
    _, email, _ = _registered(server)
    b = Browser(server)
    r = b.login(email, return_to="/.oidc/authorize?client_id=x")
    assert r.status_code == 303 and r.headers["Location"] == "/.oidc/authorize?client_id=x"
    assert b.http.get(b.url).status_code == 200
    cookie = next(c for c in b.http.cookies if c.name == "session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.secure is False
    r = b.post("logout", {}, form="")
    assert r.status_code == 200 and "logged out" in r.text
    assert b.http.get(b.url, allow_redirects=False).status_code == 303


def test_session_cookie_attributes(server: LiveServer) -> None:
    _, email, _ = _registered(server)
    b = Browser(server)
    r = b.login(email)
    header = r.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header


@pytest.mark.parametrize(
    "return_to",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "relative"],
)
def test_return_to_never_leaves_the_server(server: LiveServer, return_to: str) -> None:
    _, email, _ = _registered(server)
    r = Browser(server).login(email, return_to=return_to)
    assert r.status_code == 303 and r.headers["Location"] == "/.account/"


def test_same_origin_absolute_return_to_is_kept(server: LiveServer) -> None:
    _, email, _ = _registered(server)
    r = Browser(server).login(email, return_to=server.url + ".oidc/authorize?x=1")
    assert r.headers["Location"] == "/.oidc/authorize?x=1"


def test_wrong_password_rerenders_the_form(server: LiveServer) -> None:
    _, email, _ = _registered(server)
    r = Browser(server).login(email, "wrong password")
    assert r.status_code == 403 and "email or password is wrong" in r.text and 'role="alert"' in r.text


def test_login_is_throttled_per_email(server: LiveServer) -> None:
    _, email, _ = _registered(server)
    b = Browser(server)
    for _ in range(5):
        assert b.login(email, "wrong password").status_code == 403
    r = b.login(email)  # even the right password waits now
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and "too many" in r.text
    api = requests.post(f"{server.url}.account/api/login", json={"email": email, "password": PASSWORD})
    assert api.status_code == 429 and api.headers["Content-Type"] == "application/problem+json"


def test_login_is_throttled_per_address(tmp_path: Path) -> None:
    for live in _serve(tmp_path, single_pod=False, login_failures_per_ip=3):
        b = Browser(live)
        for _ in range(3):
            assert b.login(_email(), "wrong password").status_code == 403
        assert b.login(_email(), "wrong password").status_code == 429


# -- CSRF --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "page", ["login", "register", "logout", "pods", "credentials", "password", "delete", "webids"]
)
def test_forms_without_csrf_token_are_refused(server: LiveServer, page: str) -> None:
    b, email, _ = _registered(server)
    r = b.http.post(
        b.url + page, data={"email": email, "password": PASSWORD, "name": _pod_name(), "pods": "delete"}
    )
    assert r.status_code == 403 and "reload the page" in r.text
    r = b.http.post(b.url + page, data={"csrf_token": "forged", "name": _pod_name()})
    assert r.status_code == 403
    assert b.http.get(b.url).status_code == 200  # still logged in: the account was not deleted


def test_api_with_cookie_needs_the_csrf_header(server: LiveServer) -> None:
    b, _, _ = _registered(server)
    r = b.http.post(b.url + "api/pods", json={"name": _pod_name()})
    assert r.status_code == 403 and r.headers["Content-Type"] == "application/problem+json"
    token = b.http.get(b.url + "api/csrf").json()["csrf_token"]
    r = b.http.post(b.url + "api/pods", json={"name": _pod_name()}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201


# -- pods --------------------------------------------------------------------------------------
def _graph(url: str, who: Agent | None = None) -> Graph:
    r = (who or Agent()).get(url, headers={"Accept": "text/turtle"})
    assert r.status_code == 200, url
    return Graph().parse(data=r.text, format="turtle", publicID=url)


def test_profile_holds_every_required_triple(server: LiveServer) -> None:
    _, email, name = _registered(server)
    owner = _owner(server, email, name)
    pod = f"{server.url}{name}/"
    me = URIRef(pod + "profile/card#me")
    g = _graph(pod + "profile/card")
    expected: list[tuple[Node, Node, Node]] = [
        (me, RDF.type, FOAF.Person),
        (me, SOLID.oidcIssuer, URIRef(server.url)),
        (me, PIM.storage, URIRef(pod)),
        (me, LDP.inbox, URIRef(pod + "inbox/")),
        (me, SOLID.publicTypeIndex, URIRef(pod + "settings/publicTypeIndex.ttl")),
        (me, SOLID.privateTypeIndex, URIRef(pod + "settings/privateTypeIndex.ttl")),
        (me, PIM.preferencesFile, URIRef(pod + "settings/prefs.ttl")),
        (URIRef(pod + "profile/card"), FOAF.primaryTopic, me),
    ]
    for triple in expected:
        assert triple in g, triple
    assert (URIRef(pod + "settings/publicTypeIndex.ttl"), RDF.type, SOLID.ListedDocument) in _graph(
        pod + "settings/publicTypeIndex.ttl"
    )
    assert (URIRef(pod + "settings/privateTypeIndex.ttl"), RDF.type, SOLID.UnlistedDocument) in _graph(
        pod + "settings/privateTypeIndex.ttl", owner
    )
    assert (URIRef(pod + "settings/prefs.ttl"), RDF.type, PIM.ConfigurationFile) in _graph(
        pod + "settings/prefs.ttl", owner
    )
    inbox = owner.head(pod + "inbox/")
    assert inbox.status_code == 200 and str(LDP.BasicContainer) in links(inbox)["type"]


OWNER, PUBLIC = "owner", "public"
FULL = {ACL.Read, ACL.Write, ACL.Append, ACL.Control}


@pytest.mark.parametrize(
    "acl,target,default,rules",
    [
        ("", "", True, {OWNER: FULL}),
        ("profile/card", "profile/card", False, {OWNER: FULL, PUBLIC: {ACL.Read}}),
        ("inbox/", "inbox/", True, {OWNER: FULL, PUBLIC: {ACL.Append}}),
        (
            "settings/publicTypeIndex.ttl",
            "settings/publicTypeIndex.ttl",
            False,
            {OWNER: FULL, PUBLIC: {ACL.Read}},
        ),
    ],
)
def test_default_access_rules(
    server: LiveServer, acl: str, target: str, default: bool, rules: dict[str, set[URIRef]]
) -> None:
    _, email, name = _registered(server)
    pod = f"{server.url}{name}/"
    g = _graph(pod + acl + ".acl", _owner(server, email, name))
    found: dict[str, set[Node]] = {}
    for auth in g.subjects(RDF.type, ACL.Authorization):
        assert set(g.objects(auth, ACL.accessTo)) == {URIRef(pod + target)}
        if (auth, ACL.agentClass, FOAF.Agent) in g:
            who = PUBLIC  # only the resource itself: never inherited by children
            assert set(g.objects(auth, ACL.default)) == set()
        else:
            assert set(g.objects(auth, ACL.agent)) == {URIRef(pod + "profile/card#me")}
            who = OWNER
            assert set(g.objects(auth, ACL.default)) == ({URIRef(pod + target)} if default else set())
        found[who] = set(g.objects(auth, ACL.mode))
    assert found == rules


@pytest.mark.parametrize("private", ["settings/prefs.ttl", "settings/privateTypeIndex.ttl"])
def test_private_documents_have_no_acl_of_their_own(server: LiveServer, private: str) -> None:
    """They inherit the root's owner-only acl:default."""
    _, email, name = _registered(server)
    assert _owner(server, email, name).get(f"{server.url}{name}/{private}.acl").status_code == 404


@pytest.mark.parametrize("name,status", [("Bad_Name", 400), ("well-known", 400), ("", 400), ("a" * 70, 400)])
def test_bad_pod_names_over_the_form(server: LiveServer, name: str, status: int) -> None:
    b, _, _ = _registered(server)
    r = b.post("pods", {"name": name}, form="")
    assert r.status_code == status and 'id="pod-name-error"' in r.text


def test_taken_pod_name_over_the_form_is_409(server: LiveServer) -> None:
    _, _, taken = _registered(server)
    b, _, _ = _registered(server)
    r = b.post("pods", {"name": taken}, form="")
    assert r.status_code == 409 and "already exists" in r.text


# -- client credentials ------------------------------------------------------------------------
def test_credentials_create_and_revoke_over_the_form(server: LiveServer) -> None:
    b, _, name = _registered(server)
    webid = f"{server.url}{name}/profile/card#me"
    r = b.post("credentials", {"webid": webid, "name": "backup script"}, form="")
    assert r.status_code == 201
    client_id = re.search(r"<dt>Client id</dt><dd><code>([^<]+)</code>", r.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r"<dt>Client secret</dt><dd><code>([^<]+)</code>", r.text).group(1)  # type: ignore[union-attr]
    directory = server.app.extensions["pod_server.accounts"]
    assert directory.check_client_secret(client_id, secret).webid == webid
    assert secret not in b.http.get(b.url).text  # shown once
    r = b.post(f"credentials/{client_id}/revoke", {}, form="")
    assert r.status_code == 200 and directory.check_client_secret(client_id, secret) is None
    r = b.post(f"credentials/{client_id}/revoke", {}, form="")
    assert r.status_code == 404
    r = b.post("credentials", {"webid": "https://elsewhere.example/#me"}, form="")
    assert r.status_code == 400 and 'id="credential-error"' in r.text


# -- password and deletion ---------------------------------------------------------------------
def test_change_password_over_the_form(server: LiveServer) -> None:
    b, email, _ = _registered(server)
    r = b.post("password", {"current_password": "wrong password", "new_password": "new password 1"})
    assert r.status_code == 403 and 'id="current_password-error"' in r.text
    r = b.post("password", {"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 400 and 'id="new_password-error"' in r.text
    r = b.post("password", {"current_password": PASSWORD, "new_password": "new password 1"})
    assert r.status_code == 200 and "password was changed" in r.text
    assert Browser(server).login(email).status_code == 403
    assert Browser(server).login(email, "new password 1").status_code == 303


def test_delete_with_export_downloads_the_pod(server: LiveServer) -> None:
    b, email, name = _registered(server)
    pod = f"{server.url}{name}/"
    owner = _owner(server, email, name)
    assert owner.put(pod + "notes/a.txt", b"hello", {"Content-Type": "text/plain"}).status_code == 201
    r = b.post("delete", {"pods": "export", "password": "wrong password"})
    assert r.status_code == 403 and owner.get(pod).status_code == 200
    r = b.post("delete", {"password": PASSWORD})
    assert r.status_code == 400 and 'id="pods-error"' in r.text
    r = b.post("delete", {"pods": "export", "password": PASSWORD})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    assert "attachment" in r.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.read(f"{name}/notes/a.txt") == b"hello"
        assert f"{name}/profile/card" in z.namelist() and f"{name}/.acl" in z.namelist()
    assert _gone(server, name)
    assert requests.get(pod + "profile/card").status_code == 401  # no pod, so no public card either
    assert Browser(server).login(email).status_code == 403
    assert b.http.get(b.url, allow_redirects=False).status_code == 303  # the old session is gone


def test_delete_without_copy(server: LiveServer) -> None:
    b, email, name = _registered(server)
    r = b.post("delete", {"pods": "delete", "password": PASSWORD})
    assert r.status_code == 200 and "account was deleted" in r.text
    assert _gone(server, name)
    assert Browser(server).register(email, name).status_code == 303  # both are free again


# -- external WebIDs ---------------------------------------------------------------------------
def _host_webid(elsewhere: LiveServer, turtle: str) -> str:
    doc = elsewhere.fresh("webid") + "card"
    assert requests.put(doc, data=turtle.encode(), headers={"Content-Type": "text/turtle"}).status_code == 201
    return doc + "#me"


@pytest.mark.parametrize("method", ["issuer", "triple"])
def test_link_an_external_webid_over_the_form(server: LiveServer, elsewhere: LiveServer, method: str) -> None:
    b, _, _ = _registered(server, pod=False)
    webid = _host_webid(elsewhere, "<#me> a <http://xmlns.com/foaf/0.1/Person> .")
    r = b.post("webids", {"webid": webid}, form="")
    assert r.status_code == 201
    triple = re.search(r"<pre>(&lt;[^<]*verificationCode[^<]*)</pre>", r.text).group(1)  # type: ignore[union-attr]
    r = b.post("webids/verify", {"webid": webid}, form="")
    assert r.status_code == 403 and 'id="verify-error"' in r.text  # no proof yet
    if method == "issuer":
        body = f"<#me> <{SOLID.oidcIssuer}> <{server.url}> ."
    else:
        body = triple.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"').replace("&quot;", '"')
        assert str(PODSERVER.verificationCode) in body
    requests.put(webid.split("#")[0], data=body.encode(), headers={"Content-Type": "text/turtle"})
    r = b.post("webids/verify", {"webid": webid}, form="")
    assert r.status_code == 200 and "is now linked" in r.text
    r = b.post("credentials", {"webid": webid}, form="")
    assert r.status_code == 201


@pytest.mark.parametrize("webid", ["not a url", "ftp://x.example/card#me", ""])
def test_bad_external_webids_over_the_form(server: LiveServer, webid: str) -> None:
    b, _, _ = _registered(server, pod=False)
    r = b.post("webids", {"webid": webid}, form="")
    assert r.status_code == 400 and 'id="webid-error"' in r.text


def test_the_default_fetcher_refuses_private_addresses(tmp_path: Path, elsewhere: LiveServer) -> None:
    for live in _serve(tmp_path, single_pod=False):
        b, _, _ = _registered(live, pod=False)
        webid = _host_webid(elsewhere, f"<#me> <{SOLID.oidcIssuer}> <{live.url}> .")
        b.post("webids", {"webid": webid}, form="")
        r = b.post("webids/verify", {"webid": webid}, form="")
        assert r.status_code == 400 and "could not fetch" in r.text
