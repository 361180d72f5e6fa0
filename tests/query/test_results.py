"""SPARQL results as bytes (pod_server.query.results): each format against its specification,
read back with an independent reader where one exists (json, ElementTree, csv, rdflib)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from pod_server.errors import NotAcceptable
from pod_server.query import results

XSD = "http://www.w3.org/2001/XMLSchema#"
SR = "{http://www.w3.org/2005/sparql-results#}"

IRI = ox.NamedNode("http://example.org/a")
BNODE = ox.BlankNode("b0")
PLAIN = ox.Literal('say "hi", then\nleave\ttab')
LANG = ox.Literal("chat", language="fr")
INTEGER = ox.Literal("42", datatype=ox.NamedNode(XSD + "integer"))
VARIABLES = ["x", "y"]
ROWS = [{"x": IRI, "y": PLAIN}, {"x": BNODE, "y": LANG}, {"y": INTEGER}, {}]


# -- negotiation ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("form", "accept", "chosen"),
    [
        ("SELECT", None, results.SPARQL_JSON),
        ("SELECT", "*/*", results.SPARQL_JSON),
        ("SELECT", "application/sparql-results+xml", results.SPARQL_XML),
        ("ASK", "text/csv", results.CSV),
        ("SELECT", "text/tab-separated-values", results.TSV),
        ("SELECT", "application/json", results.JSON),
        ("SELECT", "text/csv;q=0.5, application/sparql-results+xml", results.SPARQL_XML),
        ("SELECT", "text/*", results.CSV),
        ("CONSTRUCT", None, "text/turtle"),
        ("CONSTRUCT", "application/ld+json", "application/ld+json"),
        ("DESCRIBE", "application/n-triples", "application/n-triples"),
        ("DESCRIBE", "application/rdf+xml;q=0.9, text/turtle;q=0.1", "application/rdf+xml"),
    ],
)
def test_choose(form: results.QueryForm, accept: str | None, chosen: str) -> None:
    assert results.choose(form, accept) == chosen


@pytest.mark.parametrize(
    ("form", "accept"),
    [
        ("SELECT", "text/turtle"),
        ("ASK", "image/png"),
        ("CONSTRUCT", "application/sparql-results+json"),
        ("DESCRIBE", "text/csv"),
    ],
)
def test_nothing_acceptable_is_406_naming_what_would_be(form: results.QueryForm, accept: str) -> None:
    with pytest.raises(NotAcceptable) as caught:
        results.choose(form, accept)
    assert caught.value.status == 406
    for offer in results.offers(form)[:2]:
        assert offer in caught.value.detail


# -- SELECT -------------------------------------------------------------------------------------
def test_json() -> None:
    rendered = results.solutions(VARIABLES, ROWS, results.SPARQL_JSON)
    assert rendered.content_type == "application/sparql-results+json"
    document = json.loads(rendered.body)
    assert document["head"] == {"vars": ["x", "y"]}
    assert document["results"]["bindings"] == [
        {
            "x": {"type": "uri", "value": "http://example.org/a"},
            "y": {"type": "literal", "value": PLAIN.value},
        },
        {"x": {"type": "bnode", "value": "b0"}, "y": {"type": "literal", "value": "chat", "xml:lang": "fr"}},
        {"y": {"type": "literal", "value": "42", "datatype": XSD + "integer"}},
        {},
    ]


def test_json_matches_pyoxigraph() -> None:
    """An independent writer of the same format agrees, term for term."""
    store = ox.Store()
    graph = ox.NamedNode("http://example.org/g")
    for s, o in [(IRI, PLAIN), (IRI, LANG), (IRI, INTEGER)]:
        store.add(ox.Quad(s, ox.NamedNode("http://example.org/p"), o, graph))
    query = "SELECT ?s ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?o"
    expected = json.loads(store.query(query).serialize(format=ox.QueryResultsFormat.JSON))
    rows = [{k: v for k in ("s", "o") if (v := sol[k]) is not None} for sol in store.query(query)]
    assert json.loads(results.solutions(["s", "o"], rows, results.SPARQL_JSON).body) == expected


def test_xml() -> None:
    rendered = results.solutions(VARIABLES, ROWS, results.SPARQL_XML)
    assert rendered.content_type == "application/sparql-results+xml"
    root = ET.fromstring(rendered.body)
    assert root.tag == SR + "sparql"
    assert [v.get("name") for v in root.iter(SR + "variable")] == ["x", "y"]
    found = [
        {b.get("name"): (b[0].tag.removeprefix(SR), b[0].text, dict(b[0].attrib)) for b in r}
        for r in root.iter(SR + "result")
    ]
    assert found == [
        {"x": ("uri", "http://example.org/a", {}), "y": ("literal", PLAIN.value, {})},
        {
            "x": ("bnode", "b0", {}),
            "y": ("literal", "chat", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"}),
        },
        {"y": ("literal", "42", {"datatype": XSD + "integer"})},
        {},
    ]


def test_xml_keeps_carriage_returns_and_refuses_what_xml_cannot_carry() -> None:
    body = results.solutions(["x"], [{"x": ox.Literal("a\r\nb & <c>")}], results.SPARQL_XML).body
    assert ET.fromstring(body).find(f".//{SR}literal").text == "a\r\nb & <c>"  # type: ignore[union-attr]
    with pytest.raises(NotAcceptable) as caught:
        results.solutions(["x"], [{"x": ox.Literal("bell\x07")}], results.SPARQL_XML)
    assert "application/sparql-results+json" in caught.value.detail


def test_csv() -> None:
    rendered = results.solutions(VARIABLES, ROWS, results.CSV)
    assert rendered.content_type == "text/csv; charset=utf-8"
    assert rendered.body.count(b"\r\n") == 5  # CRLF ends the header and each row (RFC 4180)
    table = list(csv.reader(io.StringIO(rendered.body.decode(), newline="")))
    assert table == [
        ["x", "y"],
        ["http://example.org/a", PLAIN.value],
        ["_:b0", "chat"],
        ["", "42"],
        ["", ""],
    ]


def test_tsv() -> None:
    rendered = results.solutions(VARIABLES, ROWS, results.TSV)
    assert rendered.content_type == "text/tab-separated-values; charset=utf-8"
    assert rendered.body.decode().split("\n") == [
        "?x\t?y",
        '<http://example.org/a>\t"say \\"hi\\", then\\nleave\\ttab"',
        '_:b0\t"chat"@fr',
        f'\t"42"^^<{XSD}integer>',
        "\t",
        "",
    ]


@pytest.mark.parametrize("media_type", results.RESULT_TYPES)
def test_no_solutions_still_names_the_variables(media_type: str) -> None:
    body = results.solutions(["s"], [], media_type).body.decode()
    assert "s" in body


# -- ASK ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        (results.SPARQL_JSON, '{"head": {}, "boolean": true}'),
        (results.JSON, '{"head": {}, "boolean": true}'),
        (results.CSV, "_askResult\r\ntrue\r\n"),
        (results.TSV, "?_askResult\ntrue\n"),
    ],
)
def test_boolean(media_type: str, body: str) -> None:
    assert results.boolean(True, media_type).body.decode() == body
    assert results.boolean(False, media_type).body.decode() == body.replace("true", "false")


def test_boolean_xml() -> None:
    root = ET.fromstring(results.boolean(False, results.SPARQL_XML).body)
    assert root.find(SR + "head") is not None
    assert root.find(SR + "boolean").text == "false"  # type: ignore[union-attr]


# -- CONSTRUCT and DESCRIBE -------------------------------------------------------------------
TRIPLES = [
    ox.Triple(IRI, ox.NamedNode("http://xmlns.com/foaf/0.1/name"), LANG),
    ox.Triple(IRI, ox.NamedNode("http://example.org/ns#count"), INTEGER),
    ox.Triple(IRI, ox.NamedNode("http://example.org/ns#knows"), BNODE),
    ox.Triple(BNODE, ox.NamedNode("http://example.org/ns#note"), PLAIN),
]
RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/n-quads": "nquads",
    "application/rdf+xml": "xml",
}


@pytest.mark.parametrize("media_type", results.GRAPH_TYPES)
def test_graph_in_every_writable_format(media_type: str) -> None:
    rendered = results.graph(TRIPLES, media_type)
    assert rendered.content_type.split(";")[0] == media_type
    graph = Graph()
    graph.parse(data=rendered.body, format=RDFLIB_FORMATS[media_type])
    a = URIRef("http://example.org/a")
    assert len(graph) == 4
    assert graph.value(a, URIRef("http://xmlns.com/foaf/0.1/name")) == Literal("chat", lang="fr")
    assert graph.value(a, URIRef("http://example.org/ns#count")) == Literal(42)
    friend = graph.value(a, URIRef("http://example.org/ns#knows"))
    assert graph.value(friend, URIRef("http://example.org/ns#note")) == Literal(PLAIN.value)


def test_turtle_uses_the_common_prefixes() -> None:
    assert b"foaf:name" in results.graph(TRIPLES, "text/turtle").body


def test_jsonld_honours_the_expanded_profile() -> None:
    body = results.graph(
        TRIPLES, "application/ld+json", jsonld_profile="http://www.w3.org/ns/json-ld#expanded"
    ).body
    document = json.loads(body)
    assert isinstance(document, list)
    assert "@context" not in json.dumps(document)


def test_a_graph_rdfxml_cannot_write_is_406_pointing_at_turtle() -> None:
    numeric = [ox.Triple(IRI, ox.NamedNode("http://example.org/1"), PLAIN)]  # no XML name
    with pytest.raises(NotAcceptable) as caught:
        results.graph(numeric, "application/rdf+xml")
    assert "text/turtle" in caught.value.detail
    assert b"<http://example.org/1>" in results.graph(numeric, "text/turtle").body
