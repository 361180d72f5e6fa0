"""The WAC policy over a real store, without HTTP: caching, other processes' changes, defaults."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from rdflib import Graph

from pod_server import create_app
from pod_server.access import wac
from pod_server.access.acl import CompiledAcl, compile_acl
from pod_server.access.credentials import PUBLIC, Credentials
from pod_server.access.defaults import OPEN_ACL_WARNING
from pod_server.access.modes import ALL_MODES, Mode
from pod_server.access.wac import WacPolicy
from pod_server.config import Secret
from pod_server.errors import Forbidden, Unauthorized
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.ldp.model import Operation
from pod_server.rdf.limits import RdfLimits
from pod_server.store.filesystem import FilesystemBackend
from pod_server.store.resource_store import ResourceStore

BASE = "http://pod.test/"
ALICE = Credentials(webid="http://pod.test/alice#me")
ACL = "@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"


def store_on(data: Path) -> ResourceStore:
    """One "worker's" store: each gunicorn worker opens its own backend on the shared folder."""
    return ResourceStore(FilesystemBackend(data), IdentifierMap(BASE, single_pod=True), RdfLimits())


def rules(who: str, modes: str, target: str = "") -> bytes:
    return (
        ACL
        + f"<#r> a acl:Authorization; {who}; acl:accessTo <{BASE}{target}>; acl:default <{BASE}{target}>; "
        f"acl:mode {modes} ."
    ).encode()


def get(path: str) -> Operation:
    return Operation("GET", path, BASE.rstrip("/") + path)


def test_an_unchanged_acl_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = store_on(tmp_path)
    store.put("/.acl", rules("acl:agentClass foaf:Agent", "acl:Read"), "text/turtle", BASE + ".acl")
    store.put("/a/b/c.ttl", b"<#a> <#b> <#c> .", "text/turtle", BASE + "a/b/c.ttl")
    compiled: list[Graph] = []

    def counting(graph: Graph) -> CompiledAcl:
        compiled.append(graph)
        return compile_acl(graph)

    monkeypatch.setattr(wac, "compile_acl", counting)
    policy = WacPolicy(store)
    for _ in range(50):
        assert policy.authorize(get("/a/b/c.ttl"), PUBLIC).user == {Mode.READ}
    assert len(compiled) == 1
    store.put(
        "/.acl", rules("acl:agentClass foaf:Agent", "acl:Read, acl:Write"), "text/turtle", BASE + ".acl"
    )
    for _ in range(10):
        assert policy.authorize(get("/a/b/c.ttl"), PUBLIC).user == {Mode.READ, Mode.WRITE, Mode.APPEND}
    assert len(compiled) == 2


def test_another_workers_change_is_seen_on_the_next_request(tmp_path: Path) -> None:
    """No change event reaches this worker: the ETag check per request is what finds the change."""
    here, there = store_on(tmp_path), store_on(tmp_path)
    there.put("/.acl", rules("acl:agentClass foaf:Agent", "acl:Read"), "text/turtle", BASE + ".acl")
    there.put("/a/doc.ttl", b"<#a> <#b> <#c> .", "text/turtle", BASE + "a/doc.ttl")
    policy = WacPolicy(here)
    assert policy.authorize(get("/a/doc.ttl"), PUBLIC).public == {Mode.READ}
    # Another worker gives /a/ an ACL of its own: the public no longer reads there.
    there.put(
        "/a/.acl", rules(f"acl:agent <{ALICE.webid}>", "acl:Read", "a/"), "text/turtle", BASE + "a/.acl"
    )
    with pytest.raises(Unauthorized):
        policy.authorize(get("/a/doc.ttl"), PUBLIC)
    assert policy.authorize(get("/a/doc.ttl"), ALICE).user == {Mode.READ}
    with pytest.raises(Forbidden):
        policy.authorize(get("/a/doc.ttl"), Credentials(webid="http://pod.test/bob#me"))
    # ... and deletes it again, and changes the root's (already compiled here) ACL.
    there.delete("/a/.acl")
    assert policy.authorize(get("/a/doc.ttl"), PUBLIC).user == {Mode.READ}
    there.put(
        "/.acl", rules("acl:agentClass foaf:Agent", "acl:Read, acl:Append"), "text/turtle", BASE + ".acl"
    )
    assert policy.authorize(get("/a/"), ALICE).user == {Mode.READ, Mode.APPEND}


def test_no_acl_at_all_means_nobody_may_do_anything(tmp_path: Path) -> None:
    store = store_on(tmp_path)
    store.put("/doc.ttl", b"<#a> <#b> <#c> .", "text/turtle", BASE + "doc.ttl")
    policy = WacPolicy(store)
    with pytest.raises(Unauthorized):
        policy.authorize(get("/doc.ttl"), PUBLIC)
    with pytest.raises(Forbidden):
        policy.authorize(get("/doc.ttl"), ALICE)


def test_a_development_pod_is_open_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pod_server.access.defaults"):
        app = create_app(backend="memory", base_url=BASE, single_pod=True)
    assert any(r.getMessage() == OPEN_ACL_WARNING % (BASE + ".acl") for r in caplog.records)
    assert "--seed-email" in OPEN_ACL_WARNING
    client = app.test_client()
    r = client.put("/notes/a.ttl", data=b"<#a> <#b> <#c> .", headers={"Content-Type": "text/turtle"})
    assert r.status_code == 201
    assert client.get("/notes/a.ttl").headers["WAC-Allow"] == (
        'user="read append write control",public="read append write control"'
    )
    assert app.extensions["pod_server.ldp"].access.granted("/.acl", PUBLIC)[0] == ALL_MODES


def test_a_seeded_single_pod_is_its_owners(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pod_server.access.defaults"):
        app = create_app(
            backend="memory",
            base_url=BASE,
            single_pod=True,
            seed_email="owner@example.org",
            seed_password=Secret("correct horse battery staple"),
        )
    assert not [r for r in caplog.records if r.name == "pod_server.access.defaults"]
    client = app.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/profile/card").status_code == 200  # public, as the pod template says
    r = client.put("/notes/a.ttl", data=b"<#a> <#b> <#c> .", headers={"Content-Type": "text/turtle"})
    assert r.status_code == 401


def test_provider_root_belongs_to_nobody() -> None:
    """Everyone may read the server root's listing; nobody may write there or below it."""
    app = create_app(backend="memory", base_url=BASE, single_pod=False)
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/.acl").status_code == 401  # reading the ACL needs Control
    r = client.put("/mine/a.ttl", data=b"<#a> <#b> <#c> .", headers={"Content-Type": "text/turtle"})
    assert r.status_code == 401
    assert client.get("/.well-known/solid").status_code != 401  # discovery is not access-controlled
