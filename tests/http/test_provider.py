"""Provider mode: each pod at /{name}/ is a storage of its own."""

from __future__ import annotations

import uuid

from rdflib import URIRef

from pod_server.vocab import PIM, RDF
from tests.conftest import LiveServer
from tests.http.helpers import TURTLE, graph, links

STORAGE_DESCRIPTION = "http://www.w3.org/ns/solid/terms#storageDescription"


def test_each_pod_is_a_storage_with_its_own_description(provider: LiveServer) -> None:
    alice = f"{provider.url}alice-{uuid.uuid4().hex[:6]}/"
    bob = f"{provider.url}bob-{uuid.uuid4().hex[:6]}/"
    for pod in (alice, bob):
        assert (
            provider.http.put(pod + "notes/a.ttl", data=b"<#a> <#b> <#c> .", headers=TURTLE).status_code
            == 201
        )
    for pod in (alice, bob):
        root = provider.http.head(pod)
        assert str(PIM.Storage) in links(root)["type"]
        assert links(root)[STORAGE_DESCRIPTION] == {pod + ".well-known/solid"}
        deep = provider.http.head(pod + "notes/a.ttl")
        assert links(deep)[STORAGE_DESCRIPTION] == {pod + ".well-known/solid"}
        described = provider.http.get(pod + ".well-known/solid", headers={"Accept": "text/turtle"})
        assert (URIRef(pod), RDF.type, PIM.Storage) in graph(described)
        assert provider.http.delete(pod).status_code == 405
    assert str(PIM.Storage) not in links(provider.http.head(alice + "notes/")).get("type", set())


def test_subdomain_mode_maps_hosts_to_pods() -> None:
    from pod_server import create_app

    app = create_app(backend="memory", base_url="http://pods.test/", subdomains=True)
    client = app.test_client()
    r = client.put(
        "/notes/a.txt", data=b"hi", headers={"Host": "alice.pods.test", "Content-Type": "text/plain"}
    )
    assert r.status_code == 201
    assert r.headers["Location"] == "http://alice.pods.test/notes/a.txt"
    assert client.get("/notes/a.txt", headers={"Host": "alice.pods.test"}).data == b"hi"
    assert client.get("/notes/a.txt", headers={"Host": "bob.pods.test"}).status_code == 404
    root = client.head("/", headers={"Host": "alice.pods.test"})
    description = f'<http://alice.pods.test/.well-known/solid>; rel="{STORAGE_DESCRIPTION}"'
    assert description in root.headers["Link"]
