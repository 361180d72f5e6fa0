"""pod_client.query against a live provider-mode pod-server with two people, over real HTTP.

Alice's pod holds, under one container: a private document (only she may read it), one shared
with Bob (its own ACL names him), and a public container (``foaf:Agent`` may read) with a
document, a document in a sub-container, a file that is not RDF and a document whose own ACL keeps
it private. Bob's pod holds a public container with one document. Every document says who wrote it
and at what level with ``ex:says``; the tables below say who may read which.

:func:`~pod_client.query.query` asks Alice's endpoint; :func:`~pod_client.query.federated` fetches
the documents across both pods and queries them on the client. Both must give each session exactly
what it may read. The federated walk is also run against a plain HTTP server (no Solid at all) to
show it never leaves the containers it was given. Setup and checks of what the pods hold use
tests/access/helpers.py's agents, not pod_client.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pod_client.errors import PodClientError
from pod_client.pod import Pod
from pod_client.query import (
    QueryResult,
    endpoint_of,
    federated,
    prepare,
    query,
    term_from_json,
    term_to_json,
)
from pod_client.session import Session
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import XSD

from tests.access.helpers import Agent, Person, log_in, make_person
from tests.clients.people import pod_for
from tests.conftest import LiveServer, _serve

EX = Namespace("http://example.org/query#")
PREFIX = f"PREFIX ex: <{EX}>\n"
TTL = f"@prefix ex: <{EX}> .\n"
ACL_PREFIXES = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"

ALICE_DOCS = {
    # name under Alice's container -> what it says
    "private/note.ttl": "alice private",
    "shared.ttl": "alice shared",
    "public/note.ttl": "alice public",
    "public/deeper/more.ttl": "alice deeper",
    "public/hidden.ttl": "alice hidden",
}
BOB_DOCS = {"public/note.ttl": "bob public"}
READS = {
    "alice": {"alice private", "alice shared", "alice public", "alice deeper", "alice hidden"},
    "bob": {"alice shared", "alice public", "alice deeper"},
    "public": {"alice public", "alice deeper"},
}
"""What each session may read of Alice's documents."""


@dataclass
class World:
    server: LiveServer
    alice: Person
    bob: Person
    base: str  # Alice's container holding ALICE_DOCS
    bob_base: str  # Bob's container holding BOB_DOCS
    pods: dict[str, Pod]  # "alice", "bob", "public" -> a pod_client session as that person

    @property
    def endpoint(self) -> str:
        return self.alice.pod + ".well-known/sparql"


def _ok(status: int, text: str = "") -> None:
    assert status in (200, 201, 204, 205), text


def _acl(owner: Person, target: str, readers: str, *, default: bool) -> str:
    """An ACL for ``target``: the owner keeps everything, ``readers`` (an ACL clause) may read."""
    inherit = f"acl:default <{target}>; " if default else ""
    return ACL_PREFIXES + (
        f"<#owner> a acl:Authorization; acl:agent <{owner.webid}>; acl:accessTo <{target}>; "
        f"{inherit}acl:mode acl:Read, acl:Write, acl:Control .\n"
        f"<#readers> a acl:Authorization; {readers}; acl:accessTo <{target}>; {inherit}acl:mode acl:Read .\n"
    )


def _owner_only(owner: Person, target: str) -> str:
    return ACL_PREFIXES + (
        f"<#owner> a acl:Authorization; acl:agent <{owner.webid}>; acl:accessTo <{target}>; "
        "acl:mode acl:Read, acl:Write, acl:Control .\n"
    )


def _fill(agent: Agent, base: str, docs: dict[str, str]) -> None:
    for name, says in docs.items():
        body = f'{TTL}<#it> ex:says "{says}"; ex:n 42; ex:label "hallo"@de .'
        response = agent.put(base + name, body)
        _ok(response.status_code, response.text)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for server in _serve(tmp_path_factory.mktemp("client-query"), single_pod=False):
        alice, bob = make_person(server, "alice"), make_person(server, "bob")
        as_alice, as_bob = log_in(server, alice), log_in(server, bob)
        tag = f"q-{uuid.uuid4().hex[:6]}/"
        base, bob_base = alice.pod + tag, bob.pod + tag
        _fill(as_alice, base, ALICE_DOCS)
        _fill(as_bob, bob_base, BOB_DOCS)
        public = "acl:agentClass foaf:Agent"
        for agent, owner, container in ((as_alice, alice, base), (as_bob, bob, bob_base)):
            made = agent.put(
                container + "public/.acl", _acl(owner, container + "public/", public, default=True)
            )
            _ok(made.status_code, made.text)
        to_bob = _acl(alice, base + "shared.ttl", f"acl:agent <{bob.webid}>", default=False)
        made = as_alice.put(base + "shared.ttl.acl", to_bob)
        _ok(made.status_code, made.text)
        made = as_alice.put(base + "public/hidden.ttl.acl", _owner_only(alice, base + "public/hidden.ttl"))
        _ok(made.status_code, made.text)
        photo = as_alice.put(
            base + "public/photo.bin", b"\x00\x01", {"Content-Type": "application/octet-stream"}
        )
        _ok(photo.status_code, photo.text)
        pods = {"alice": pod_for(server, alice), "bob": pod_for(server, bob), "public": pod_for(server, None)}
        yield World(server, alice, bob, base, bob_base, pods)


def _says(result: QueryResult, variable: str = "says") -> list[str]:
    return [str(row[variable]) for row in result.rows if variable in row]


SAYS = (
    PREFIX
    + "SELECT ?g ?says WHERE {{ GRAPH ?g {{ ?s ex:says ?says }} FILTER(STRSTARTS(STR(?g), {base!r})) }}"
)


# -- the endpoint ---------------------------------------------------------------------------------


def test_endpoint_of_finds_the_endpoint_from_any_url_the_session_may_read(world: World) -> None:
    alice = world.alice
    for who, url in [
        ("alice", alice.pod),
        ("alice", world.base + "private/note.ttl"),
        ("alice", alice.pod + "no/such/thing.ttl"),  # found on the nearest container above it
        ("bob", alice.pod + "profile/card#me"),
        ("public", world.base + "public/deeper/more.ttl"),
    ]:
        assert endpoint_of(world.pods[who], url) == world.endpoint, (who, url)
    assert endpoint_of(world.pods["bob"], world.bob.pod) == world.bob.pod + ".well-known/sparql"
    # The storage description is named only on resources the session may read (pod-server sends
    # no Link on a 401 or 403): from a private URL, someone else finds nothing.
    assert endpoint_of(world.pods["bob"], world.base + "private/note.ttl") is None
    with pytest.raises(PodClientError, match="found no SPARQL endpoint"):
        query(world.pods["bob"], "ASK {}", url=world.base + "private/note.ttl")


@pytest.mark.parametrize("who", READS)
def test_query_returns_exactly_what_the_session_may_read(world: World, who: str) -> None:
    # Found from the WebID profile, which everyone may read.
    result = query(world.pods[who], SAYS.format(base=world.base), url=world.alice.webid)
    assert result.kind == "solutions" and result.variables == ["g", "says"]
    assert sorted(_says(result)) == sorted(READS[who])  # each once
    graphs = {str(row["g"]) for row in result.rows}
    assert graphs == {world.base + name for name, says in ALICE_DOCS.items() if says in READS[who]}
    assert result.documents == [] and result.skipped == []  # only federated queries report those


def test_query_gives_rdflib_terms(world: World) -> None:
    note = world.base + "public/note.ttl"
    result = query(
        world.pods["public"],
        PREFIX + f"SELECT ?s ?n ?label ?none WHERE {{ GRAPH <{note}> {{ ?s ex:n ?n; ex:label ?label "
        "OPTIONAL { ?s ex:nothing ?none } } }",
        endpoint=world.endpoint,
    )
    assert result.variables == ["s", "n", "label", "none"]
    (row,) = result.rows
    assert row == {
        "s": URIRef(note + "#it"),
        "n": Literal("42", datatype=XSD.integer),
        "label": Literal("hallo", lang="de"),
    }  # ?none is unbound: absent


@pytest.mark.parametrize("who", READS)
def test_ask_construct_and_describe(world: World, who: str) -> None:
    pod = world.pods[who]
    for says in ALICE_DOCS.values():
        ask = query(pod, PREFIX + f'ASK {{ ?s ex:says "{says}" }}', endpoint=world.endpoint)
        assert ask.kind == "boolean" and ask.boolean is (says in READS[who]), says
    constructed = query(
        pod, PREFIX + "CONSTRUCT { ?s ex:says ?says } WHERE { ?s ex:says ?says }", endpoint=world.endpoint
    )
    assert constructed.kind == "graph" and isinstance(constructed.graph, Graph)
    assert {str(o) for o in constructed.graph.objects(None, EX.says)} == READS[who]
    it = URIRef(world.base + "public/note.ttl#it")
    described = query(pod, f"DESCRIBE <{it}>", endpoint=world.endpoint)
    assert described.graph is not None and (it, EX.says, Literal("alice public")) in described.graph


def test_refusals_keep_the_servers_status_and_message(world: World) -> None:
    pod = world.pods["alice"]
    cases = [
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", 422, "SERVICE"),
        ("SELECT * FROM <http://example.org/data> WHERE { ?s ?p ?o }", 422, "FROM <http://example.org/data>"),
        ("SELECT * WHERE { ?s ?p ?o ", 400, "not valid SPARQL"),
        ("INSERT DATA { <a:b> <a:c> <a:d> }", 422, "not SPARQL Update"),
    ]
    for sparql, status, words in cases:
        with pytest.raises(PodClientError) as caught:
            query(pod, sparql, endpoint=world.endpoint)
        assert caught.value.status == status and words in caught.value.message, sparql
    with pytest.raises(ValueError, match="say where"):
        query(pod, "ASK {}")


# -- a plain HTTP server: no endpoint, no Solid -------------------------------------------------------


class Static:
    """A plain HTTP server answering GET and HEAD from ``routes`` (path -> (type, body)); it records
    every path asked for. No Link headers, no storage description: not a Solid server."""

    def __init__(self, routes: dict[str, tuple[str, str]]) -> None:
        self.routes = routes
        self.asked: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: bool) -> None:
                outer.asked.append(self.path)
                found = outer.routes.get(self.path)
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = found[1].encode()
                self.send_response(200)
                self.send_header("Content-Type", found[0])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def static() -> Iterator[Static]:
    server = Static({})
    yield server
    server.close()


def test_a_server_that_names_no_endpoint(static: Static) -> None:
    static.routes["/data.ttl"] = ("text/turtle", f'{TTL}<#it> ex:says "static" .')
    pod = Pod(Session.anonymous())
    assert endpoint_of(pod, static.url + "/data.ttl") is None
    with pytest.raises(PodClientError, match="found no SPARQL endpoint"):
        query(pod, "ASK {}", url=static.url + "/data.ttl")
    # federated() needs no endpoint, and no Solid: a document on any web server will do.
    result = federated(pod, PREFIX + "SELECT ?says WHERE { ?s ex:says ?says }", [static.url + "/data.ttl"])
    assert _says(result) == ["static"] and result.documents == [static.url + "/data.ttl"]


def test_federated_never_leaves_the_containers_it_was_given(static: Static) -> None:
    elsewhere = Static({"/x.ttl": ("text/turtle", f'{TTL}<#it> ex:says "elsewhere" .')})
    try:
        root = static.url
        listing = (
            "@prefix ldp: <http://www.w3.org/ns/ldp#> .\n"
            f"<{root}/c/> ldp:contains <{root}/c/a.ttl>, <{root}/c/sub/>, <{root}/c/.acl>, "
            f"<{root}/c/a.ttl.meta>, <{root}/outside.ttl>, <{elsewhere.url}/x.ttl>, <{root}/c/> .\n"
            f"<{root}/c/sub/> a ldp:BasicContainer .\n"
        )
        document = f'{TTL}<#it> ex:says "%s" .'
        static.routes.update(
            {
                "/c/": ("text/turtle", listing),
                "/c/a.ttl": ("text/turtle", document % "a"),
                "/c/sub/": ("text/turtle", f"<{root}/c/sub/> <http://www.w3.org/ns/ldp#contains> <b.ttl> ."),
                "/c/sub/b.ttl": ("text/turtle", document % "b"),
                "/c/.acl": ("text/turtle", document % "acl"),
                "/c/a.ttl.meta": ("text/turtle", document % "meta"),
                "/outside.ttl": ("text/turtle", document % "outside"),
            }
        )
        result = federated(
            Pod(Session.anonymous()), PREFIX + "SELECT ?says WHERE { ?s ex:says ?says }", [root + "/c/"]
        )
        assert sorted(_says(result)) == ["a", "b"]
        assert sorted(static.asked) == ["/c/", "/c/a.ttl", "/c/sub/", "/c/sub/b.ttl"]
        assert elsewhere.asked == []
        assert result.skipped == []
    finally:
        elsewhere.close()


# -- federated --------------------------------------------------------------------------------------


def _public_sources(world: World) -> list[str]:
    return [world.base + "public/", world.bob_base + "public/"]


def test_federated_over_two_pods_gives_the_union_of_what_bob_may_read(world: World) -> None:
    missing = world.base + "public/missing.ttl"
    sources = [*_public_sources(world), world.base + "shared.ttl", world.base + "private/note.ttl", missing]
    result = federated(
        world.pods["bob"], PREFIX + "SELECT ?g ?says WHERE { GRAPH ?g { ?s ex:says ?says } }", sources
    )
    assert sorted(_says(result)) == sorted(READS["bob"] | {"bob public"})
    readable = {
        world.base + "public/note.ttl": "alice public",
        world.base + "public/deeper/more.ttl": "alice deeper",
        world.bob_base + "public/note.ttl": "bob public",
        world.base + "shared.ttl": "alice shared",
    }
    # Each document is a named graph, named by its URL; no container or ACL is among them.
    assert sorted(result.documents) == sorted(readable)
    assert {(str(row["g"]), str(row["says"])) for row in result.rows} == set(readable.items())
    skipped = {s.url: s.status for s in result.skipped}
    assert skipped == {
        world.base + "public/hidden.ttl": 403,  # listed, but its own ACL keeps it from Bob
        world.base + "private/note.ttl": 403,
        missing: 404,
        world.base + "public/photo.bin": None,  # not RDF: never downloaded
    }
    assert all(s.reason for s in result.skipped)
    assert next(s for s in result.skipped if s.status is None).reason == "not RDF (application/octet-stream)"


def test_federated_as_alice_and_as_the_public(world: World) -> None:
    sparql = PREFIX + "SELECT ?says WHERE { ?s ex:says ?says }"  # the default graph: the union
    alice = federated(world.pods["alice"], sparql, [world.base, world.bob_base + "public/"])
    assert sorted(_says(alice)) == sorted(READS["alice"] | {"bob public"})
    assert {s.url for s in alice.skipped} == {world.base + "public/photo.bin"}
    public = federated(world.pods["public"], sparql, [world.base, *_public_sources(world)])
    assert sorted(_says(public)) == sorted(READS["public"] | {"bob public"})
    statuses = {s.url: s.status for s in public.skipped}
    assert statuses[world.base] == 401  # a container the public may not list: skipped, not walked
    assert statuses[world.base + "public/hidden.ttl"] == 401


def test_federated_matches_the_endpoint_on_one_pod(world: World) -> None:
    sparql = SAYS.format(base=world.base)
    on_server = query(world.pods["bob"], sparql, endpoint=world.endpoint)
    on_client = federated(world.pods["bob"], sparql, [world.base + "public/", world.base + "shared.ttl"])
    assert sorted(map(sorted, (r.items() for r in on_client.rows))) == sorted(
        map(sorted, (r.items() for r in on_server.rows))
    )
    assert on_client.variables == on_server.variables


def test_federated_ask_and_construct(world: World) -> None:
    pod, sources = world.pods["public"], _public_sources(world)
    assert federated(pod, PREFIX + 'ASK { ?s ex:says "bob public" }', sources).boolean is True
    assert federated(pod, PREFIX + 'ASK { ?s ex:says "alice hidden" }', sources).boolean is False
    built = federated(pod, PREFIX + "CONSTRUCT { ?s ex:said ?says } WHERE { ?s ex:says ?says }", sources)
    assert built.kind == "graph" and built.graph is not None
    assert {str(o) for o in built.graph.objects(None, EX.said)} == READS["public"] | {"bob public"}
    assert len(built.skipped) == 2  # hidden.ttl (401) and photo.bin (not RDF)


def test_federated_refuses_what_would_make_rdflib_fetch_before_fetching_anything() -> None:
    nowhere = ["http://127.0.0.1:9/nothing/"]  # nothing listens there: a fetch would fail differently
    pod = Pod(Session.anonymous())
    for sparql, words in [
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE <http://example.org/sparql>"),
        ("SELECT * WHERE { FILTER EXISTS { SERVICE <http://example.org/s> { ?s ?p ?o } } }", "SERVICE"),
        ("SELECT * FROM <http://example.org/data> WHERE { ?s ?p ?o }", "FROM <http://example.org/data>"),
        ("SELECT * FROM NAMED <http://example.org/g> WHERE { ?s ?p ?o }", "FROM NAMED <http://example.org/g>"),
        ("SELECT * WHERE { ?s ?p ", "not valid SPARQL 1.1 (line 1"),
    ]:  # fmt: skip
        with pytest.raises(PodClientError) as caught:
            federated(pod, sparql, nowhere)
        assert words in caught.value.message and caught.value.status is None, sparql
    with pytest.raises(PodClientError, match="could not reach"):
        federated(pod, "ASK {}", nowhere)


def test_federated_caps_the_documents_it_reads(world: World) -> None:
    with pytest.raises(PodClientError, match="more than 2 documents"):
        federated(world.pods["alice"], "ASK {}", [world.base], max_documents=2)
    within = federated(world.pods["alice"], "ASK {}", [world.base], max_documents=len(ALICE_DOCS) + 1)
    assert len(within.documents) == len(ALICE_DOCS)  # the photo counts, but is not RDF


# -- results as data ----------------------------------------------------------------------------------


def test_terms_round_trip_through_sparql_json() -> None:
    for term in [
        URIRef("http://example.org/a"),
        BNode("b0"),
        Literal("plain"),
        Literal("hallo", lang="de"),
        Literal("42", datatype=XSD.integer),
    ]:
        assert term_from_json(term_to_json(term)) == term
    assert term_from_json({"type": "typed-literal", "value": "1", "datatype": str(XSD.integer)}) == Literal(1)
    with pytest.raises(ValueError, match="'triple'"):
        term_from_json({"type": "triple", "value": {}})


def test_results_as_json_and_csv() -> None:
    result = QueryResult(
        "solutions",
        variables=["s", "label"],
        rows=[
            {"s": URIRef("http://example.org/a"), "label": Literal('say "hi", twice', lang="en")},
            {"s": BNode("b0")},
        ],
    )
    assert result.to_json() == {
        "head": {"vars": ["s", "label"]},
        "results": {
            "bindings": [
                {
                    "s": {"type": "uri", "value": "http://example.org/a"},
                    "label": {"type": "literal", "value": 'say "hi", twice', "xml:lang": "en"},
                },
                {"s": {"type": "bnode", "value": "b0"}},
            ]
        },
    }
    assert result.to_csv() == 's,label\r\nhttp://example.org/a,"say ""hi"", twice"\r\n_:b0,\r\n'
    ask = QueryResult("boolean", boolean=True)
    assert ask.to_json() == {"head": {}, "boolean": True}
    assert ask.to_csv() == "_askResult\r\ntrue\r\n"
    with pytest.raises(ValueError, match="graph"):
        QueryResult("graph", graph=Graph()).to_json()


def test_prepare_accepts_every_query_form() -> None:
    for sparql in ["SELECT * WHERE { ?s ?p ?o }", "ASK {}", "CONSTRUCT WHERE { ?s ?p ?o }", "DESCRIBE <a:b>"]:
        prepare(sparql)
