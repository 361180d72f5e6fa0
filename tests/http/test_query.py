"""The SPARQL endpoint over real HTTP, on live provider-mode servers with real accounts and
DPoP-bound tokens (SPARQL 1.1 Protocol; issue 7).

Alice owns a pod holding three documents: one private (only she may read it), one for a group
(a vcard:Group document in her pod lists Bob; the ACL names it with acl:agentGroup) and one
public (foaf:Agent may read it). Each of Alice, Bob and the public must get exactly the documents
they may read, whatever the result form: the access table is
``{"alice": {private, group, public}, "bob": {group, public}, "public": {public}}``.
"""

from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Namespace, URIRef

from tests.access.helpers import PUBLIC, Agent, Person, log_in, make_person
from tests.conftest import LiveServer, _serve

EX = Namespace("http://example.org/query#")
PREFIX = f"PREFIX ex: <{EX}>\n"
TTL = f"@prefix ex: <{EX}> .\n"
ACL_PREFIXES = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
LEVELS = ("private", "group", "public")
READS = {"alice": {"private", "group", "public"}, "bob": {"group", "public"}, "public": {"public"}}
SR = "{http://www.w3.org/2005/sparql-results#}"
VOID_ENDPOINT = URIRef("http://rdfs.org/ns/void#sparqlEndpoint")

serve = contextmanager(_serve)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("query"), single_pod=False)


@dataclass
class World:
    alice: Person
    agents: dict[str, Agent]
    bob: Person
    base: str
    """The container in Alice's pod that holds the three documents."""
    docs: dict[str, str]
    """level -> document URL."""
    others: list[str]
    """The other RDF documents under ``base``: the group list and the ACLs."""

    @property
    def endpoint(self) -> str:
        return self.alice.pod + ".well-known/sparql"


def _ok(response: requests.Response) -> None:
    assert response.status_code in (200, 201, 204, 205), response.text


def _acl(owner: Person, container: str, readers: str) -> str:
    """``container``'s ACL (absolute, or ``./``): the owner keeps everything, ``readers`` (an ACL
    clause) may read."""
    return ACL_PREFIXES + (
        f"<#owner> a acl:Authorization; acl:agent <{owner.webid}>; acl:accessTo <{container}>; "
        f"acl:default <{container}>; acl:mode acl:Read, acl:Write, acl:Control .\n"
        f"<#readers> a acl:Authorization; {readers}; acl:accessTo <{container}>; "
        f"acl:default <{container}>; acl:mode acl:Read .\n"
    )


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    alice, bob = make_person(server, "alice"), make_person(server, "bob")
    owner = log_in(server, alice)
    base = alice.pod + "shared/"
    friends = base + "friends.ttl"
    _ok(
        owner.put(
            friends,
            "@prefix vcard: <http://www.w3.org/2006/vcard/ns#>.\n"
            f"<#friends> a vcard:Group; vcard:hasMember <{bob.webid}> .",
        )
    )
    docs = {}
    for rank, level in enumerate(LEVELS):
        docs[level] = f"{base}{level}/doc.ttl"
        _ok(owner.put(docs[level], f"{TTL}<#it> ex:level '{level}'; ex:rank {rank} ."))
    group_acl, public_acl = base + "group/.acl", base + "public/.acl"
    _ok(owner.put(group_acl, _acl(alice, base + "group/", f"acl:agentGroup <{friends}#friends>")))
    _ok(owner.put(public_acl, _acl(alice, base + "public/", "acl:agentClass foaf:Agent")))
    agents = {"alice": owner, "bob": log_in(server, bob), "public": PUBLIC}
    return World(alice, agents, bob, base, docs, [friends, group_acl, public_acl])


def _query(agent: Agent, endpoint: str, sparql: str, accept: str | None = None) -> requests.Response:
    headers = {"Accept": accept} if accept else {}
    return agent.get(endpoint, params={"query": sparql}, headers=headers)


# -- readers for each result format ---------------------------------------------------------
def _json_column(response: requests.Response, var: str) -> list[str]:
    return [b[var]["value"] for b in response.json()["results"]["bindings"] if var in b]


def _xml_column(response: requests.Response, var: str) -> list[str]:
    root = ET.fromstring(response.content)
    return [b[0].text or "" for b in root.iter(SR + "binding") if b.get("name") == var]


def _csv_column(response: requests.Response, var: str) -> list[str]:
    table = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    column = table[0].index(var)
    return [row[column] for row in table[1:]]


def _tsv_column(response: requests.Response, var: str) -> list[str]:
    lines = response.content.decode().rstrip("\n").split("\n")
    column = lines[0].split("\t").index("?" + var)
    return [line.split("\t")[column].strip('"') for line in lines[1:]]


def _rdf_levels(response: requests.Response, fmt: str) -> list[str]:
    graph = Graph()
    graph.parse(data=response.content, format=fmt)
    return [str(o) for o in graph.objects(None, EX.level)]


LEVEL_QUERY = PREFIX + "SELECT ?level WHERE { ?doc ex:level ?level }"
LEVEL_CONSTRUCT = PREFIX + "CONSTRUCT { ?doc ex:level ?level } WHERE { ?doc ex:level ?level }"
LEVEL_DESCRIBE = PREFIX + "DESCRIBE ?doc WHERE { ?doc ex:level ?level }"

FORMS: dict[str, tuple[str, str, Callable[[requests.Response], list[str]]]] = {
    "SELECT json": (LEVEL_QUERY, "application/sparql-results+json", lambda r: _json_column(r, "level")),
    "SELECT xml": (LEVEL_QUERY, "application/sparql-results+xml", lambda r: _xml_column(r, "level")),
    "SELECT csv": (LEVEL_QUERY, "text/csv", lambda r: _csv_column(r, "level")),
    "SELECT tsv": (LEVEL_QUERY, "text/tab-separated-values", lambda r: _tsv_column(r, "level")),
    "CONSTRUCT turtle": (LEVEL_CONSTRUCT, "text/turtle", lambda r: _rdf_levels(r, "turtle")),
    "CONSTRUCT json-ld": (LEVEL_CONSTRUCT, "application/ld+json", lambda r: _rdf_levels(r, "json-ld")),
    "DESCRIBE n-triples": (LEVEL_DESCRIBE, "application/n-triples", lambda r: _rdf_levels(r, "nt")),
    "DESCRIBE rdf/xml": (LEVEL_DESCRIBE, "application/rdf+xml", lambda r: _rdf_levels(r, "xml")),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("who", READS)
def test_each_user_gets_exactly_what_they_may_read(world: World, who: str, form: str) -> None:
    sparql, accept, read = FORMS[form]
    r = _query(world.agents[who], world.endpoint, sparql, accept)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == accept
    found = read(r)
    assert sorted(found) == sorted(READS[who])  # each once: no document counted twice


@pytest.mark.parametrize(
    "accept", ["application/sparql-results+json", "text/csv", "application/sparql-results+xml"]
)
@pytest.mark.parametrize("who", READS)
def test_ask_answers_only_from_readable_documents(world: World, who: str, accept: str) -> None:
    for level in LEVELS:
        r = _query(world.agents[who], world.endpoint, PREFIX + f'ASK {{ ?doc ex:level "{level}" }}', accept)
        assert r.status_code == 200, r.text
        if accept.endswith("json"):
            answer = r.json()["boolean"]
        elif accept == "text/csv":
            answer = r.text.split("\r\n")[1] == "true"
        else:
            answer = ET.fromstring(r.content).find(SR + "boolean").text == "true"  # type: ignore[union-attr]
        assert answer is (level in READS[who]), level


@pytest.mark.parametrize("who", READS)
def test_count_counts_only_readable_documents(world: World, who: str) -> None:
    r = _query(
        world.agents[who], world.endpoint, PREFIX + "SELECT (COUNT(*) AS ?n) WHERE { ?doc ex:level ?l }"
    )
    assert _json_column(r, "n") == [str(len(READS[who]))]


@pytest.mark.parametrize("who", READS)
def test_graph_lists_exactly_the_documents_a_get_would_return(world: World, who: str) -> None:
    agent = world.agents[who]
    listing = (
        f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{world.base}")) }}'
    )
    graphs = set(_json_column(_query(agent, world.endpoint, listing), "g"))
    readable_by_get = {d for d in [*world.docs.values(), *world.others] if agent.get(d).status_code == 200}
    assert graphs == readable_by_get
    assert {world.docs[level] for level in READS[who]} <= graphs
    # Each document is its own graph, named by its URL.
    pairs = PREFIX + "SELECT ?g ?level WHERE { GRAPH ?g { ?doc ex:level ?level } }"
    r = _query(agent, world.endpoint, pairs)
    bindings = r.json()["results"]["bindings"]
    assert {(b["g"]["value"], b["level"]["value"]) for b in bindings} == {
        (world.docs[level], level) for level in READS[who]
    }


def test_the_owner_sees_the_acls_others_do_not(world: World) -> None:
    acls = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?rule a <http://www.w3.org/ns/auth/acl#Authorization> } }"
    for who, expected in [("alice", True), ("bob", False), ("public", False)]:
        graphs = set(_json_column(_query(world.agents[who], world.endpoint, acls), "g"))
        assert (world.base + "group/.acl" in graphs) is expected, who


def test_a_private_document_looks_exactly_like_a_missing_one(world: World) -> None:
    """Nothing in an answer tells Bob whether a document he may not read exists."""
    bob = world.agents["bob"]
    private, missing = world.docs["private"], world.base + "private/nothing-here.ttl"
    for template in [
        "ASK {{ GRAPH <{doc}> {{ ?s ?p ?o }} }}",
        "DESCRIBE <{doc}#it>",
        "SELECT * WHERE {{ GRAPH <{doc}> {{ ?s ?p ?o }} }}",
        "SELECT (COUNT(*) AS ?n) WHERE {{ <{doc}#it> ?p ?o }}",
    ]:
        answers = [_query(bob, world.endpoint, template.format(doc=doc)) for doc in (private, missing)]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].content == answers[1].content, template


# -- the protocol -----------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["GET", "POST form", "POST sparql-query"])
def test_the_three_ways_to_send_a_query(world: World, how: str) -> None:
    bob = world.agents["bob"]
    accept = {"Accept": "application/sparql-results+json"}
    if how == "GET":
        r = bob.get(world.endpoint, params={"query": LEVEL_QUERY}, headers=accept)
    elif how == "POST form":
        r = bob.request(
            "POST",
            world.endpoint,
            data={"query": LEVEL_QUERY},
            headers={**accept, "Content-Type": "application/x-www-form-urlencoded"},
        )
    else:
        r = bob.post(
            world.endpoint, LEVEL_QUERY.encode(), {**accept, "Content-Type": "application/sparql-query"}
        )
    assert r.status_code == 200, r.text
    assert sorted(_json_column(r, "level")) == sorted(READS["bob"])
    assert r.headers["Cache-Control"] == "no-store"
    assert "Authorization" in r.headers["Vary"]


def test_the_storage_description_advertises_the_endpoint(world: World) -> None:
    r = PUBLIC.get(world.alice.pod + ".well-known/solid")
    graph = Graph()
    graph.parse(data=r.content, format="turtle", publicID=r.url)
    assert (URIRef(world.alice.pod), VOID_ENDPOINT, URIRef(world.endpoint)) in graph


def test_get_without_a_query_describes_the_service(world: World) -> None:
    r = PUBLIC.get(world.endpoint, headers={"Accept": "text/turtle"})
    assert r.status_code == 200, r.text
    graph = Graph()
    graph.parse(data=r.content, format="turtle", publicID=r.url)
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (URIRef(world.endpoint), sd.endpoint, URIRef(world.endpoint)) in graph
    assert (URIRef(world.endpoint), sd.feature, sd.UnionDefaultGraph) in graph


def test_cors(world: World) -> None:
    origin = "https://app.example"
    preflight = requests.options(
        world.endpoint,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization, dpop",
        },
        timeout=10,
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type, authorization, dpop"
    r = PUBLIC.from_origin(origin).get(world.endpoint, params={"query": "ASK {}"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == origin


def test_406_when_no_format_fits(world: World) -> None:
    r = _query(PUBLIC, world.endpoint, LEVEL_QUERY, "image/png")
    assert r.status_code == 406
    assert r.headers["Content-Type"] == "application/problem+json"
    assert "application/sparql-results+json" in r.json()["detail"]
    r = _query(PUBLIC, world.endpoint, LEVEL_CONSTRUCT, "application/sparql-results+json")
    assert r.status_code == 406
    assert "text/turtle" in r.json()["detail"]


def test_the_endpoint_only_reads(world: World) -> None:
    r = world.agents["alice"].put(world.endpoint, "<#a> <#b> <#c> .")
    assert r.status_code == 405
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_unknown_pods_and_other_paths(server: LiveServer, world: World) -> None:
    assert _query(PUBLIC, server.url + "no-such-pod/.well-known/sparql", "ASK {}").status_code == 404
    assert _query(PUBLIC, server.url + ".well-known/sparql", "ASK {}").status_code == 404  # no pod there
    # Deeper down, .well-known/sparql is an ordinary resource name, served by the LDP routes.
    deeper = world.base + "public/.well-known/sparql"
    assert PUBLIC.get(deeper).status_code == 404


# -- refusals -----------------------------------------------------------------------------------
REFUSALS = [
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", 422, "SERVICE"),
    ("SELECT * FROM <http://example.org/other> WHERE { ?s ?p ?o }", 422, "FROM <http://example.org/other>"),
    ("SELECT * FROM NAMED <http://example.org/other> WHERE { GRAPH ?g { ?s ?p ?o } }", 422, "FROM NAMED"),
    ("INSERT DATA { <http://a.example/> <http://b.example/> <http://c.example/> }", 422, "PATCH"),
    ("LOAD <http://example.org/data.ttl>", 422, "LOAD"),
    ("SELECT * WHERE { ?s ?p }", 400, "line 1, column"),
    (PREFIX + "SELECT * WHERE { ?a ex:knows+ ?b }", 422, "unbound ends"),
    (
        PREFIX + "SELECT * WHERE { " + " ".join(f"?s{i} ex:p ?o{i} ." for i in range(65)) + " }",
        422,
        "at most 64",
    ),
    ("SELECT * WHERE { ?s ?p '" + "x" * 70_000 + "' }", 413, "64 KiB"),
]


@pytest.mark.parametrize(("sparql", "status", "words"), REFUSALS, ids=[str(i) for i in range(len(REFUSALS))])
def test_refusals_are_clear_problems(world: World, sparql: str, status: int, words: str) -> None:
    r = world.agents["bob"].post(
        world.endpoint, sparql.encode(), {"Content-Type": "application/sparql-query"}
    )
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == status
    assert words in problem["detail"]


@pytest.mark.parametrize(
    ("params", "form", "words"),
    [
        ({"query": "ASK {}", "named-graph-uri": "http://example.org/g"}, None, "named-graph-uri"),
        ({"query": "ASK {}", "default-graph-uri": "http://example.org/g"}, None, "default-graph-uri"),
        (None, {"query": "ASK {}", "default-graph-uri": "http://example.org/g"}, "default-graph-uri"),
        (None, {"update": "INSERT DATA { <http://a/> <http://b/> <http://c/> }"}, "PATCH"),
        ({"query": "INSERT DATA { <http://a/> <http://b/> <http://c/> }"}, None, "PATCH"),
    ],
)
def test_protocol_parameters_that_name_a_dataset_or_an_update_are_refused(
    world: World, params: dict[str, str] | None, form: dict[str, str] | None, words: str
) -> None:
    if form is None:
        r = PUBLIC.get(world.endpoint, params=params)
    else:
        r = PUBLIC.request("POST", world.endpoint, data=form)
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]


def test_an_update_posted_as_an_update_is_refused(world: World) -> None:
    r = world.agents["alice"].post(
        world.endpoint,
        "INSERT DATA { <http://a/> <http://b/> <http://c/> }",
        {"Content-Type": "application/sparql-update"},
    )
    assert r.status_code == 422
    assert "PATCH" in r.json()["detail"]


def test_malformed_requests_are_400(world: World) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    cases = [
        (PUBLIC.post(world.endpoint, "&".join(f"f{i}=1" for i in range(200)), form), "too many fields"),
        (PUBLIC.post(world.endpoint, "query=ASK%20%7B%7D&query=ASK%20%7B%7D", form), "exactly one query"),
        (PUBLIC.post(world.endpoint, "", form), "no query"),
        (PUBLIC.post(world.endpoint, b"\xff\xfe", {"Content-Type": "application/sparql-query"}), "UTF-8"),
    ]
    for r, words in cases:
        assert r.status_code == 400, r.text
        assert words in r.json()["detail"]


def test_other_bodies_are_415(world: World) -> None:
    r = PUBLIC.post(world.endpoint, "ASK {}", {"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert "application/sparql-query" in r.json()["detail"]


# -- the index stays consistent -----------------------------------------------------------
def _levels(agent: Agent, endpoint: str, container: str) -> dict[str, str]:
    sparql = PREFIX + (
        "SELECT ?g ?level WHERE { GRAPH ?g { ?doc ex:level ?level } "
        f'FILTER(STRSTARTS(STR(?g), "{container}")) }}'
    )
    r = _query(agent, endpoint, sparql)
    assert r.status_code == 200, r.text
    return {b["g"]["value"]: b["level"]["value"] for b in r.json()["results"]["bindings"]}


def test_a_query_right_after_a_write_sees_it(world: World) -> None:
    alice, bob = world.agents["alice"], world.agents["bob"]
    container = world.alice.pod + f"fresh-{uuid.uuid4().hex[:8]}/"
    doc = container + "doc.ttl"
    turtle = TTL + "<#it> ex:level '{}' ."

    _ok(alice.put(doc, turtle.format("one")))  # PUT creates
    assert _levels(alice, world.endpoint, container) == {doc: "one"}
    _ok(alice.put(doc, turtle.format("two")))  # PUT replaces
    assert _levels(alice, world.endpoint, container) == {doc: "two"}
    patch = PREFIX + 'DELETE DATA { <#it> ex:level "two" } ; INSERT DATA { <#it> ex:level "three" }'
    _ok(alice.patch(doc, patch))  # PATCH edits
    assert _levels(alice, world.endpoint, container) == {doc: "three"}
    posted = alice.post(container, turtle.format("posted"))  # POST adds
    _ok(posted)
    child = requests.compat.urljoin(container, posted.headers["Location"])
    assert _levels(alice, world.endpoint, container) == {doc: "three", child: "posted"}

    assert _levels(bob, world.endpoint, container) == {}  # private until shared...
    _ok(alice.put(container + ".acl", _acl(world.alice, container, f"acl:agent <{world.bob.webid}>")))
    assert _levels(bob, world.endpoint, container) == {doc: "three", child: "posted"}
    _ok(alice.delete(container + ".acl"))  # ...and private again at once
    assert _levels(bob, world.endpoint, container) == {}

    _ok(alice.delete(doc))  # DELETE removes
    assert _levels(alice, world.endpoint, container) == {child: "posted"}


def test_the_index_is_rebuilt_from_storage_after_a_restart(tmp_path: Path) -> None:
    # Every server start picks a new port, so the pod's URLs (and its owner's WebID) change; the
    # public document's ACL uses relative IRIs and keeps working. The public is the reader here.
    with serve(tmp_path, single_pod=False) as first:
        alice = make_person(first, "alice")
        owner = log_in(first, alice)
        pod_path = alice.pod.removeprefix(first.url)
        turtle = TTL + "<#it> ex:level '{}' ."
        _ok(owner.put(alice.pod + "open/kept.ttl", turtle.format("kept")))
        _ok(owner.put(alice.pod + "open/gone.ttl", turtle.format("gone")))
        _ok(owner.put(alice.pod + "open/.acl", _acl(alice, "./", "acl:agentClass foaf:Agent")))
        _ok(owner.put(alice.pod + "closed/doc.ttl", turtle.format("private")))
        endpoint = alice.pod + ".well-known/sparql"
        assert set(_levels(PUBLIC, endpoint, alice.pod).values()) == {"kept", "gone"}
        _ok(owner.delete(alice.pod + "open/gone.ttl"))
        assert set(_levels(PUBLIC, endpoint, alice.pod).values()) == {"kept"}

    with serve(tmp_path, single_pod=False) as second:
        pod = second.url + pod_path
        assert _levels(PUBLIC, pod + ".well-known/sparql", pod) == {pod + "open/kept.ttl": "kept"}


# -- limits ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A server with tight query limits, and a public pod of 150 triples: (server, endpoint)."""
    with serve(
        tmp_path_factory.mktemp("query-limits"), single_pod=False, query_max_rows=20, query_timeout=0.25
    ) as s:
        alice = make_person(s, "alice")
        owner = log_in(s, alice)
        body = TTL + "\n".join(f"<#n{i}> ex:value {i} ." for i in range(150))
        _ok(owner.put(alice.pod + "open/numbers.ttl", body))
        _ok(owner.put(alice.pod + "open/.acl", _acl(alice, "./", "acl:agentClass foaf:Agent")))
        endpoint = alice.pod + ".well-known/sparql"
        assert _query(PUBLIC, endpoint, "ASK {}").status_code == 200  # loads the index
        yield s, endpoint


def test_too_many_rows_is_422_saying_add_limit(limited: tuple[LiveServer, str]) -> None:
    _, endpoint = limited
    r = _query(PUBLIC, endpoint, PREFIX + "SELECT ?n ?v WHERE { ?n ex:value ?v }")
    assert r.status_code == 422, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    assert "more than 20" in r.json()["detail"] and "LIMIT" in r.json()["detail"]
    r = _query(PUBLIC, endpoint, PREFIX + "SELECT ?n ?v WHERE { ?n ex:value ?v } LIMIT 20")
    assert r.status_code == 200
    assert len(r.json()["results"]["bindings"]) == 20


def test_a_query_past_the_timeout_is_503(limited: tuple[LiveServer, str]) -> None:
    _, endpoint = limited
    # Three unbound patterns over 150 values: 3.4 million combinations, none of which passes.
    heavy = (
        PREFIX + "SELECT * WHERE { ?a ex:value ?x . ?b ex:value ?y . ?c ex:value ?z "
        "FILTER(STRLEN(CONCAT(STR(?x), STR(?y), STR(?z))) < 0) }"
    )
    r = _query(PUBLIC, endpoint, heavy)
    assert r.status_code == 503, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    assert "did not finish within 0.25 s" in r.json()["detail"]


# -- single-pod mode -----------------------------------------------------------------------
def test_single_pod_mode_serves_the_endpoint_at_the_root(live: LiveServer) -> None:
    endpoint = live.url + ".well-known/sparql"
    r = live.http.get(endpoint, params={"query": "ASK {}"})
    assert r.status_code == 200, r.text
    assert r.json()["boolean"] is True
    description = live.http.get(live.url + ".well-known/solid")
    graph = Graph()
    graph.parse(data=description.content, format="turtle", publicID=description.url)
    assert (URIRef(live.url), VOID_ENDPOINT, URIRef(endpoint)) in graph


# -- subdomain mode ------------------------------------------------------------------------
def test_subdomain_mode_takes_the_pod_from_the_host() -> None:
    from pod_server import create_app
    from pod_server.access.defaults import open_acl
    from pod_server.rdf import formats

    app = create_app(backend="memory", base_url="http://pods.test/", subdomains=True)
    directory = app.extensions["pod_server.accounts"]
    store = app.extensions["pod_server.store"]
    for name in ("alice", "bob"):
        account = directory.register(f"{name}@example.org", "correct horse battery staple")
        directory.create_pod(account.id, name)
        store.put(
            f"/{name}/.acl",
            open_acl(f"http://{name}.pods.test/"),
            formats.TURTLE,
            f"http://{name}.pods.test/.acl",
        )
        url = f"http://{name}.pods.test/note.ttl"
        store.put(f"/{name}/note.ttl", f"<#it> <{EX}level> '{name}' .".encode(), formats.TURTLE, url)
    client = app.test_client()
    query = {"query": PREFIX + "SELECT ?g ?level WHERE { GRAPH ?g { ?it ex:level ?level } }"}
    for name in ("alice", "bob"):
        r = client.get("/.well-known/sparql", query_string=query, headers={"Host": f"{name}.pods.test"})
        assert r.status_code == 200, r.text
        bindings = r.get_json()["results"]["bindings"]
        assert [(b["g"]["value"], b["level"]["value"]) for b in bindings] == [
            (f"http://{name}.pods.test/note.ttl", name)
        ]
    description = client.get("/.well-known/solid", headers={"Host": "bob.pods.test", "Accept": "text/turtle"})
    graph = Graph()
    graph.parse(data=description.data, format="turtle", publicID="http://bob.pods.test/.well-known/solid")
    endpoint = URIRef("http://bob.pods.test/.well-known/sparql")
    assert (URIRef("http://bob.pods.test/"), VOID_ENDPOINT, endpoint) in graph
    # The server's own host has no pod, so no endpoint.
    assert (
        client.get("/.well-known/sparql", query_string=query, headers={"Host": "pods.test"}).status_code
        == 404
    )
    app.extensions["pod_server.notifications"].close()
