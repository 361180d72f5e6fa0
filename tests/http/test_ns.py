"""The published vocabulary and shapes under {base}.ns/ (contract §1, docs/shapes.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from pod_server import create_app
from pod_server.config import Settings
from pod_server.http.ns import NsServices
from pod_server.shapes import ShapeLibrary
from pod_server.vocab import LDP, PROV, RDF, SH
from tests.conftest import LiveServer
from tests.http.helpers import graph

REPO = Path(__file__).resolve().parents[2]
CONTRIBUTION = URIRef("https://w3id.org/pod-server/shapes/contribution#ContributionShape")


def test_the_vocabulary_is_turtle_by_default(live: LiveServer) -> None:
    r = live.http.get(live.url + ".ns/cbpp")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/turtle"
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    g = graph(r)
    # Terms keep their published IRIs wherever the document is fetched from.
    assert (URIRef("https://w3id.org/pod-server/cbpp#Contribution"), None, None) in g


def test_the_vocabulary_as_jsonld_by_conneg(live: LiveServer) -> None:
    r = live.http.get(live.url + ".ns/cbpp", headers={"Accept": "application/ld+json"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/ld+json")
    turtle = graph(live.http.get(live.url + ".ns/cbpp"))
    assert len(graph(r, "json-ld")) == len(turtle)


def test_unacceptable_types_are_406(live: LiveServer) -> None:
    r = live.http.get(live.url + ".ns/cbpp", headers={"Accept": "text/html"})
    assert r.status_code == 406
    assert "text/turtle" in r.json()["detail"]


def test_the_jsonld_context(live: LiveServer) -> None:
    r = live.http.get(live.url + ".ns/cbpp.jsonld")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/ld+json"
    assert r.json()["@context"]["cbpp"] == "https://w3id.org/pod-server/cbpp#"


def test_the_shapes_listing(live: LiveServer) -> None:
    url = live.url + ".ns/shapes/"
    g = graph(live.http.get(url))
    listed = set(g.objects(URIRef(url), LDP.contains))
    assert URIRef(url + "contribution") in listed
    assert (
        URIRef(url + "contribution"),
        PROV.alternateOf,
        URIRef("https://w3id.org/pod-server/shapes/contribution"),
    ) in g
    assert (URIRef(url), RDF.type, LDP.BasicContainer) in g


@pytest.mark.parametrize("name", sorted(p.stem for p in (REPO / "shapes").glob("*.ttl")))
def test_every_bundled_shape_is_served(live: LiveServer, name: str) -> None:
    r = live.http.get(live.url + ".ns/shapes/" + name)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/turtle"
    assert len(graph(r)) > 0


def test_a_shape_keeps_its_iris_and_negotiates(live: LiveServer) -> None:
    url = live.url + ".ns/shapes/contribution"
    turtle = graph(live.http.get(url))
    assert (CONTRIBUTION, RDF.type, SH.NodeShape) in turtle
    r = live.http.get(url, headers={"Accept": "application/n-triples"})
    assert r.headers["Content-Type"] == "application/n-triples"
    assert (CONTRIBUTION, RDF.type, SH.NodeShape) in graph(r, "nt")


def test_etags_and_conditional_requests(live: LiveServer) -> None:
    url = live.url + ".ns/shapes/contribution"
    first = live.http.get(url)
    etag = first.headers["ETag"]
    again = live.http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    # Another representation has another ETag.
    assert live.http.get(url, headers={"Accept": "application/ld+json"}).headers["ETag"] != etag
    head = live.http.head(url)
    assert head.status_code == 200
    assert head.headers["ETag"] == etag
    assert head.headers["Content-Length"] == str(len(first.content))


def test_cors(live: LiveServer) -> None:
    r = live.http.get(live.url + ".ns/cbpp", headers={"Origin": "https://app.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    preflight = live.http.options(
        live.url + ".ns/cbpp",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    "path", ["shapes/nothing", "shapes/%2E%2E%2Fcbpp", "other", "shapes/contribution.ttl"]
)
def test_unknown_names_are_404_problems(live: LiveServer, path: str) -> None:
    r = live.http.get(live.url + ".ns/" + path)
    assert r.status_code in {400, 404}
    assert r.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH", "DELETE"])
def test_read_only(live: LiveServer, method: str) -> None:
    r = live.http.request(
        method, live.url + ".ns/cbpp", data=b"<a> <b> <c> .", headers={"Content-Type": "text/turtle"}
    )
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert live.http.options(live.url + ".ns/cbpp").status_code == 204


def test_folders_are_configurable(tmp_path: Path) -> None:
    """Services take their folders (no environment): a test app serves its own files."""
    shapes, vocab = tmp_path / "shapes", tmp_path / "vocab"
    shapes.mkdir()
    vocab.mkdir()
    (shapes / "tiny.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> . <#TinyShape> a sh:NodeShape .", encoding="utf-8"
    )
    (vocab / "cbpp.ttl").write_text(
        "<#Thing> a <http://www.w3.org/2000/01/rdf-schema#Class> .", encoding="utf-8"
    )
    (vocab / "cbpp.jsonld").write_text('{"@context": {}}', encoding="utf-8")
    app = create_app(
        Settings(base_url="http://pod.test/", backend="memory", data_dir=tmp_path / "data", single_pod=True)
    )
    app.extensions["pod_server.ns"] = NsServices(ShapeLibrary.bundled(shapes), vocab)
    client = app.test_client()
    r = client.get("/.ns/shapes/tiny", base_url="http://pod.test")
    assert r.status_code == 200
    g = Graph().parse(data=r.data, format="turtle", publicID="http://pod.test/.ns/shapes/tiny")
    assert (URIRef("https://w3id.org/pod-server/shapes/tiny#TinyShape"), RDF.type, SH.NodeShape) in g
    r = client.get("/.ns/cbpp", base_url="http://pod.test")
    g = Graph().parse(data=r.data, format="turtle", publicID="http://pod.test/.ns/cbpp")
    assert (URIRef("https://w3id.org/pod-server/cbpp#Thing"), None, None) in g
    assert client.get("/.ns/shapes/contribution", base_url="http://pod.test").status_code == 404
    assert client.get("/.ns/cbpp.jsonld", base_url="http://pod.test").json == {"@context": {}}


@pytest.mark.parametrize("context", ["https://w3id.org/pod-server/cbpp.jsonld", "{base}.ns/cbpp.jsonld"])
def test_json_ld_bodies_may_use_the_community_context_without_a_fetch(live: LiveServer, context: str) -> None:
    """The context is bundled (never fetched, like every context we accept): by its w3id IRI and by
    this server's own URL for it."""
    url = live.url + f"ctx-{abs(hash(context)) % 10_000}/rule"
    body = {
        "@context": context.format(base=live.url),
        "@id": "#rule",
        "@type": "DecisionRule",
        "quorum": "0.5",
        "period": "P7D",
        "weighting": "OneMemberOneVote",
    }
    put = live.http.put(url, json=body, headers={"Content-Type": "application/ld+json"})
    assert put.status_code == 201, put.text
    stored = graph(live.http.get(url))
    rule = URIRef(url + "#rule")
    cbpp = "https://w3id.org/pod-server/cbpp#"
    assert (rule, RDF.type, URIRef(cbpp + "DecisionRule")) in stored
    assert (rule, URIRef(cbpp + "weighting"), URIRef(cbpp + "OneMemberOneVote")) in stored
    assert str(stored.value(rule, URIRef(cbpp + "quorum"))) == "0.5"


def test_another_servers_copy_of_the_context_is_not_fetched(live: LiveServer) -> None:
    body = {"@context": "https://elsewhere.example/.ns/cbpp.jsonld", "@id": "#x", "quorum": "1"}
    put = live.http.put(
        live.url + "ctx-elsewhere", json=body, headers={"Content-Type": "application/ld+json"}
    )
    assert put.status_code == 400
    assert "https://w3id.org/pod-server/cbpp.jsonld" in put.json()["detail"]
