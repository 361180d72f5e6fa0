"""Provider mode: each pod at /{name}/ is a storage of its own. Pods come from the accounts
service; writes go with the owner's DPoP-bound credentials (pods are private by default)."""

from __future__ import annotations

from rdflib import URIRef

from pod_server.access.defaults import open_acl
from pod_server.rdf import formats
from pod_server.vocab import PIM, RDF
from tests.access.helpers import PUBLIC, log_in, make_person
from tests.conftest import LiveServer
from tests.http.helpers import TURTLE, graph, links

STORAGE_DESCRIPTION = "http://www.w3.org/ns/solid/terms#storageDescription"


def test_each_pod_is_a_storage_with_its_own_description(provider: LiveServer) -> None:
    owners = {}
    for name in ("alice", "bob"):
        person = make_person(provider, name)
        owners[person.pod] = log_in(provider, person)
    alice, bob = owners
    for pod, owner in owners.items():
        assert owner.put(pod + "notes/a.ttl", b"<#a> <#b> <#c> .", TURTLE).status_code == 201
    for pod, owner in owners.items():
        root = owner.head(pod)
        assert str(PIM.Storage) in links(root)["type"]
        assert links(root)[STORAGE_DESCRIPTION] == {pod + ".well-known/solid"}
        deep = owner.head(pod + "notes/a.ttl")
        assert links(deep)[STORAGE_DESCRIPTION] == {pod + ".well-known/solid"}
        # The storage description is public, like every server-managed discovery document.
        described = PUBLIC.get(pod + ".well-known/solid", headers={"Accept": "text/turtle"})
        assert (URIRef(pod), RDF.type, PIM.Storage) in graph(described)
        assert owner.delete(pod).status_code == 405
    assert str(PIM.Storage) not in links(owners[alice].head(alice + "notes/")).get("type", set())
    # One pod's owner is nobody in the other pod.
    assert owners[alice].get(bob + "notes/a.ttl").status_code == 403


def test_the_server_root_is_nobodys_in_provider_mode(provider: LiveServer) -> None:
    """Pods come from accounts: nobody can make one, or anything else, by writing under /.
    Everyone may read the root's listing (the pods' names, which their public WebIDs show anyway)."""
    person = make_person(provider, "carol")
    owner = log_in(provider, person)
    assert PUBLIC.put(provider.url + "squatter/a.ttl", b"<#a> <#b> <#c> .", TURTLE).status_code == 401
    assert owner.put(provider.url + "squatter/a.ttl", b"<#a> <#b> <#c> .", TURTLE).status_code == 403
    assert PUBLIC.get(provider.url).status_code == 200
    assert PUBLIC.put(provider.url + ".acl", b"", TURTLE).status_code == 401
    assert PUBLIC.delete(provider.url + "squatter/").status_code in {401, 404}


def test_subdomain_mode_maps_hosts_to_pods() -> None:
    from pod_server import create_app

    app = create_app(backend="memory", base_url="http://pods.test/", subdomains=True)
    directory = app.extensions["pod_server.accounts"]
    store = app.extensions["pod_server.store"]
    for name in ("alice", "bob"):
        account = directory.register(f"{name}@example.org", "correct horse battery staple")
        directory.create_pod(account.id, name)
        # Open these pods to everyone, as an owner could: this test is about host names.
        acl_url = f"http://{name}.pods.test/.acl"
        store.put(f"/{name}/.acl", open_acl(f"http://{name}.pods.test/"), formats.TURTLE, acl_url)
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
