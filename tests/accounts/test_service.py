"""The account service without HTTP: the database, the pod templates and the rules."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from rdflib import Graph, URIRef

from pod_server.accounts.directory import AccountDirectory
from pod_server.accounts.hashing import Passwords
from pod_server.accounts.pods import check_pod_name
from pod_server.accounts.seed import seed
from pod_server.accounts.service import SqlAccountDirectory
from pod_server.accounts.throttle import LoginThrottle, TooManyAttempts
from pod_server.accounts.webid_proof import FetchedDocument, WebIdVerifier
from pod_server.config import Secret
from pod_server.db import Database
from pod_server.errors import BadRequest, Conflict, Forbidden, NotFound
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.rdf.limits import RdfLimits
from pod_server.store.memory import MemoryBackend
from pod_server.store.resource_store import ResourceStore
from pod_server.vocab import PODSERVER, SOLID

BASE = "https://pods.example/"
FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
LIMITS = RdfLimits(max_bytes=1 << 20, max_triples=10_000, max_literal_bytes=1 << 16, max_jsonld_depth=16)


class Documents:
    """A document fetcher over a dict: url -> (content type, body)."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[str, bytes]] = {}

    def __call__(self, url: str) -> FetchedDocument:
        if url not in self.docs:
            raise NotFound(f"{url} does not exist")
        content_type, body = self.docs[url]
        return FetchedDocument(url, content_type, body)


@pytest.fixture
def docs() -> Documents:
    return Documents()


def _directory(docs: Documents, *, single_pod: bool = False) -> SqlAccountDirectory:
    ids = IdentifierMap(BASE, single_pod=single_pod)
    store = ResourceStore(MemoryBackend(), ids, LIMITS)
    return SqlAccountDirectory(
        Database("sqlite://"), store, issuer=BASE, passwords=FAST, verifier=WebIdVerifier(BASE, docs)
    )


@pytest.fixture
def d(docs: Documents) -> Iterator[SqlAccountDirectory]:
    directory = _directory(docs)
    yield directory
    directory.db.close()


def test_it_is_an_account_directory(d: SqlAccountDirectory) -> None:
    directory: AccountDirectory = d
    made = d.register("Ann@Example.org", "correct horse")
    assert directory.authenticate("ann@example.org", "correct horse") == d.get(made.id)
    assert directory.authenticate("ann@example.org", "wrong horse") is None
    assert directory.authenticate("nobody@example.org", "correct horse") is None
    assert directory.get("missing") is None


def test_passwords_are_stored_as_argon2id(d: SqlAccountDirectory) -> None:
    from pod_server.accounts import tables as t

    d.register("ann@example.org", "correct horse")
    with d.db.connect() as conn:
        stored = conn.execute(t.accounts.select()).one().password_hash
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


def test_unknown_email_costs_one_hash_too() -> None:
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append("verify")
            return super().verify(hash, password)

    passwords = Passwords(Counting(time_cost=1, memory_cost=8, parallelism=1))
    assert passwords.verify(None, "anything") is False
    assert calls == ["verify"]


@pytest.mark.parametrize(
    "email,password",
    [("", "password1"), ("not-an-email", "password1"), ("a@b", "password1"), ("a@example.org", "short")],
)
def test_register_refuses_bad_input(d: SqlAccountDirectory, email: str, password: str) -> None:
    with pytest.raises(BadRequest):
        d.register(email, password)
    assert d.all_accounts() == []


def test_duplicate_email_is_a_conflict_case_insensitively(d: SqlAccountDirectory) -> None:
    d.register("ann@example.org", "password1")
    with pytest.raises(Conflict):
        d.register("ANN@example.org", "password2")


def test_change_password(d: SqlAccountDirectory) -> None:
    a = d.register("ann@example.org", "password1")
    token = d.issue_token(a.id)
    with pytest.raises(Forbidden):
        d.change_password(a.id, "wrong-password", "password2")
    d.change_password(a.id, "password1", "password2")
    assert d.authenticate("ann@example.org", "password1") is None
    assert d.authenticate("ann@example.org", "password2") is not None
    assert d.account_for_token(token) is None  # old bearer tokens stop working


@pytest.mark.parametrize(
    "name", ["", "-a", "a-", "A", "a/b", "a.b", "..", "x" * 64, "well-known", "account", "ä"]
)
def test_bad_pod_names(name: str) -> None:
    with pytest.raises(BadRequest):
        check_pod_name(name)


def test_pod_name_taken_is_a_conflict_and_nothing_changes(d: SqlAccountDirectory) -> None:
    a = d.register("ann@example.org", "password1")
    b = d.register("bob@example.org", "password1")
    d.create_pod(a.id, "ann")
    with pytest.raises(Conflict):
        d.create_pod(b.id, "ann")
    assert d.pods(b.id) == [] and d.get(b.id).webids == ()  # type: ignore[union-attr]


def test_a_container_made_over_http_cannot_become_a_pod(d: SqlAccountDirectory) -> None:
    a = d.register("ann@example.org", "password1")
    d.store.put("/squat/", b"", "text/turtle", BASE + "squat/")
    with pytest.raises(Conflict):
        d.create_pod(a.id, "squat")
    assert d.pods(a.id) == []


def test_pod_makes_a_webid_and_an_owner(d: SqlAccountDirectory) -> None:
    a = d.register("ann@example.org", "password1")
    pod = d.create_pod(a.id, "ann")
    assert pod.url == BASE + "ann/" and pod.webid == BASE + "ann/profile/card#me"
    assert d.get(a.id).webids == (pod.webid,)  # type: ignore[union-attr]
    assert d.owners_of("/ann/") == (pod.webid,)
    assert d.owners_of("/nobody/") == ()
    card = d.store.graph_of("/ann/profile/card", BASE + "ann/profile/card")
    assert (URIRef(pod.webid), SOLID.oidcIssuer, URIRef(BASE)) in card


def test_single_pod_mode_makes_the_root_the_pod(docs: Documents) -> None:
    d = _directory(docs, single_pod=True)
    a = d.register("ann@example.org", "password1")
    pod = d.create_pod(a.id, "ignored")
    assert pod.url == BASE and pod.webid == BASE + "profile/card#me"
    with pytest.raises(Conflict):
        d.create_pod(a.id, "")


def test_seed_once_even_when_run_twice(docs: Documents) -> None:
    d = _directory(docs, single_pod=True)
    seed(d, "owner@example.org", Secret("password1"), single_pod=True)
    seed(d, "other@example.org", Secret("password1"), single_pod=True)
    assert [a.email for a in d.all_accounts()] == ["owner@example.org"]
    assert d.owners_of("/") == (BASE + "profile/card#me",)


def test_client_credentials(d: SqlAccountDirectory) -> None:
    a = d.register("ann@example.org", "password1")
    pod = d.create_pod(a.id, "ann")
    with pytest.raises(BadRequest):
        d.create_credential(a.id, "https://elsewhere.example/card#me")
    made = d.create_credential(a.id, pod.webid, "backup")
    assert ":" not in made.client_id and made.issuer == BASE
    found = d.check_client_secret(made.client_id, made.client_secret)
    assert found is not None and (found.webid, found.account_id, found.name) == (pod.webid, a.id, "backup")
    assert d.check_client_secret(made.client_id, made.client_secret + "x") is None
    assert d.check_client_secret("unknown", made.client_secret) is None
    from pod_server.accounts import tables as t

    with d.db.connect() as conn:
        assert made.client_secret not in str(conn.execute(t.client_credentials.select()).all())
    b = d.register("bob@example.org", "password1")
    with pytest.raises(NotFound):
        d.revoke_credential(b.id, made.client_id)  # not theirs
    d.revoke_credential(a.id, made.client_id)
    assert d.check_client_secret(made.client_id, made.client_secret) is None


WEBID = "https://elsewhere.example/card#me"


def test_external_webid_by_issuer(d: SqlAccountDirectory, docs: Documents) -> None:
    a = d.register("ann@example.org", "password1")
    with pytest.raises(NotFound):
        d.verify_webid(a.id, WEBID)  # no challenge yet
    d.start_webid_link(a.id, WEBID)
    docs.docs["https://elsewhere.example/card"] = (
        "text/turtle",
        b"<#me> a <http://xmlns.com/foaf/0.1/Person> .",
    )
    with pytest.raises(Forbidden):
        d.verify_webid(a.id, WEBID)
    docs.docs["https://elsewhere.example/card"] = (
        "text/turtle",
        f"<#me> <{SOLID.oidcIssuer}> <{BASE}> .".encode(),
    )
    assert d.verify_webid(a.id, WEBID).verified
    assert WEBID in d.get(a.id).webids  # type: ignore[union-attr]
    made = d.create_credential(a.id, WEBID)
    assert d.check_client_secret(made.client_id, made.client_secret) is not None


def test_external_webid_by_triple_in_json_ld(d: SqlAccountDirectory, docs: Documents) -> None:
    a = d.register("ann@example.org", "password1")
    challenge = d.start_webid_link(a.id, WEBID)
    body = f'{{"@id": "{WEBID}", "{PODSERVER.verificationCode}": "{challenge.code}"}}'
    docs.docs["https://elsewhere.example/card"] = ("application/ld+json", body.encode())
    assert d.verify_webid(a.id, WEBID).kind == "external"
    b = d.register("bob@example.org", "password1")
    with pytest.raises(Conflict):
        d.start_webid_link(b.id, WEBID)  # one account per WebID


@pytest.mark.parametrize("webid", ["", "ftp://x/card#me", "card#me", "https://"])
def test_external_webid_bad_input(d: SqlAccountDirectory, webid: str) -> None:
    a = d.register("ann@example.org", "password1")
    with pytest.raises(BadRequest):
        d.start_webid_link(a.id, webid)


def test_unfetchable_or_unparsable_webid_documents(d: SqlAccountDirectory, docs: Documents) -> None:
    a = d.register("ann@example.org", "password1")
    d.start_webid_link(a.id, WEBID)
    with pytest.raises(BadRequest):
        d.verify_webid(a.id, WEBID)  # 404: the fetcher raises NotFound
    docs.docs["https://elsewhere.example/card"] = ("text/turtle", b"<#me> <broken")
    with pytest.raises(BadRequest):
        d.verify_webid(a.id, WEBID)
    docs.docs["https://elsewhere.example/card"] = ("image/png", b"\x89PNG")
    with pytest.raises(BadRequest):
        d.verify_webid(a.id, WEBID)
    assert d.webids(a.id) == []


def test_delete_with_export_then_everything_is_gone(d: SqlAccountDirectory) -> None:
    a = d.register("ann@example.org", "password1")
    pod = d.create_pod(a.id, "ann")
    d.store.put("/ann/notes/hello.txt", b"hello", "text/plain", BASE + "ann/notes/hello.txt")
    made = d.create_credential(a.id, pod.webid)
    out = io.BytesIO()
    d.delete_account(a.id, pods="export", export_to=out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        names = set(z.namelist())
        assert z.read("ann/notes/hello.txt") == b"hello"
        card = Graph().parse(data=z.read("ann/profile/card"), format="turtle")
    assert {"ann/profile/card", "ann/.acl", "ann/inbox/", "ann/settings/prefs.ttl", "manifest.json"} <= names
    assert (URIRef(pod.webid), SOLID.oidcIssuer, URIRef(BASE)) in card
    assert d.get(a.id) is None and d.find("ann@example.org") is None
    assert d.check_client_secret(made.client_id, made.client_secret) is None
    with pytest.raises(NotFound):
        d.store.stat("/ann/")
    with pytest.raises(NotFound):
        d.store.stat("/ann/.acl")
    b = d.register("bob@example.org", "password1")
    d.create_pod(b.id, "ann")  # the name is free again, and empty
    with pytest.raises(NotFound):
        d.store.stat("/ann/notes/hello.txt")


def test_delete_refuses_a_bad_choice(d: SqlAccountDirectory) -> None:
    a = d.register("ann@example.org", "password1")
    with pytest.raises(BadRequest):
        d.delete_account(a.id, pods="keep")  # type: ignore[arg-type]
    assert d.get(a.id) is not None


def test_throttle_counts_failures_per_email_and_ip(d: SqlAccountDirectory) -> None:
    now = [1000.0]
    throttle = LoginThrottle(d.db, per_email=2, per_ip=3, window=60, clock=lambda: now[0])
    throttle.failed("ann@example.org", "10.0.0.1")
    throttle.check("ann@example.org", "10.0.0.1")
    throttle.failed("ANN@example.org", "10.0.0.1")
    with pytest.raises(TooManyAttempts) as caught:
        throttle.check("ann@example.org", "10.0.0.2")
    assert caught.value.status == 429 and caught.value.headers["Retry-After"] == "60"
    throttle.check("bob@example.org", "10.0.0.2")
    throttle.failed("bob@example.org", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        throttle.check("carol@example.org", "10.0.0.1")  # the address is spent
    now[0] += 61
    throttle.check("ann@example.org", "10.0.0.1")  # the window passed


def test_account_tokens_expire(docs: Documents) -> None:
    d = _directory(docs)
    a = d.register("ann@example.org", "password1")
    token = d.issue_token(a.id)
    assert d.account_for_token(token) == d.get(a.id)
    d.clock = lambda: time.time() + 31 * 24 * 3600
    assert d.account_for_token(token) is None


def test_passwords_use_owasps_argon2id_setting_and_start_cheaply() -> None:
    from argon2 import extract_parameters

    from pod_server.accounts.hashing import Passwords

    passwords = Passwords()
    assert passwords._dummy is None  # no argon2 run until an unknown email needs one
    params = extract_parameters(passwords.hash("correct horse"))
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19 * 1024, 2, 1)
    assert params.type.name == "ID"
    assert not passwords.verify(None, "anything")
    assert passwords._dummy is not None
