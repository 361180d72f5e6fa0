"""pod_server.rdf.convert: parse and serialise RDF, with limits, line numbers and writability."""

from __future__ import annotations

import json
import re
import socket
from urllib.parse import urljoin

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from pod_server.errors import BadRequest, InvalidRdf, PayloadTooLarge, StorageError, UnsupportedMediaType
from pod_server.rdf import formats
from pod_server.rdf.convert import check_graph, parse, relative_iri, serialize
from pod_server.rdf.limits import RdfLimits
from pod_server.vocab import FOAF, JSONLD, RDF, XSD

BASE = "https://alice.example/profile/card"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing never opens a connection (remote contexts, DTDs, external entities)."""

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


LIMITS = RdfLimits()

PROFILE = rb"""@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix solid: <http://www.w3.org/ns/solid/terms#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/vocab#> .

<> a foaf:PersonalProfileDocument ; foaf:primaryTopic <#me> .
<#me> a foaf:Person ;
    foaf:name "Alice"@en, "Alicia"@es-MX, "Alice" ;
    foaf:knows [ foaf:name "Bob" ; ex:knows [ foaf:name "Carol" ] ] ;
    ex:age 42 ; ex:height 1.68 ; ex:ratio 2.5e0 ; ex:member true ;
    ex:born "1990-05-01"^^xsd:date ; ex:custom "x"^^ex:Type ;
    ex:list ( 1 "two" <#three> ) ;
    ex:sibling <other>, <../friends/bob#i>, <./>, </> ;
    solid:oidcIssuer <https://idp.example/> .
"""

STRINGS = rb'''@prefix ex: <http://example.org/vocab#> .
<#s> ex:quote "say \"hi\" \\ back" ;
    ex:lines "line1\nline2\r\nline3\rend\ttab" ;
    ex:long """multi
line "text" with 'quotes' """ ;
    ex:unicode "caf\u00e9 \U0001F600 \u65e5\u672c" ;
    ex:empty "" ;
    ex:keywordish "@id", "@context" ;
    ex:markup "<p>&amp; ]]></p>" ;
    ex:spaces "  lead and trail  " .
'''

IRIS = rb"""@prefix ex: <http://example.org/vocab#> .
@prefix urn: <http://example.org/not-a-urn/> .
<urn:isbn:0451450523> ex:p <mailto:alice@example.org>, <tag:example.org,2024:x>, urn:thing .
<https://alice.example/profile/card2> ex:p <https://alice.example/profile/a:b>,
    <https://alice.example/profile/..x> .
<https://alice.example/profile/caf%C3%A9> ex:p <https://alice.example/profile/\u00e9t\u00e9> .
<https://alice.example/profile//twice> ex:p <https://alice.example/profile/card?x=1#f> .
<https://other.example/x#y> ex:p <https://alice.example/profile/child/>,
    <https://alice.example/profile/.hidden> .
"""

DOCUMENTS = {"profile": PROFILE, "strings": STRINGS, "iris": IRIS}


def same(a: Graph, b: Graph) -> bool:
    """Isomorphic, comparing language tags case-insensitively (RDF 1.1 Concepts §3.3; pyld
    lower-cases them)."""

    def folded(graph: Graph) -> Graph:
        out = Graph()
        for s, p, o in graph:
            if isinstance(o, Literal) and o.language:
                o = Literal(str(o), lang=o.language.lower())
            out.add((s, p, o))
        return out

    return isomorphic(folded(a), folded(b))


def _source(name: str) -> Graph:
    return parse(DOCUMENTS[name], formats.TURTLE, BASE, LIMITS)


def _input_in(graph: Graph, media_type: str, source: bytes) -> bytes:
    """The same graph as a body of ``media_type`` (N3 reads the Turtle text)."""
    if media_type in (formats.TURTLE, formats.N3):
        return source
    return serialize(graph, media_type, BASE)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@pytest.mark.parametrize("read_as", formats.READABLE)
@pytest.mark.parametrize("write_as", formats.WRITABLE)
def test_every_readable_format_round_trips_through_every_writable_format(
    name: str, read_as: str, write_as: str
) -> None:
    original = _source(name)
    body = _input_in(original, read_as, DOCUMENTS[name])
    read = parse(body, read_as, BASE, LIMITS)
    assert same(read, original)
    written = serialize(read, write_as, BASE)
    assert same(parse(written, write_as, BASE, LIMITS), original)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@pytest.mark.parametrize(
    "profile", [None, str(JSONLD.expanded), str(JSONLD.compacted), str(JSONLD.flattened)]
)
def test_jsonld_profiles_round_trip(name: str, profile: str | None) -> None:
    original = _source(name)
    written = serialize(original, formats.JSONLD, BASE, jsonld_profile=profile)
    assert same(parse(written, formats.JSONLD, BASE, LIMITS), original)


def test_relative_iris_resolve_against_the_base() -> None:
    graph = _source("profile")
    me = URIRef(BASE + "#me")
    assert (URIRef(BASE), FOAF.primaryTopic, me) in graph
    siblings = set(graph.objects(me, URIRef("http://example.org/vocab#sibling")))
    assert siblings == {
        URIRef("https://alice.example/profile/other"),
        URIRef("https://alice.example/friends/bob#i"),
        URIRef("https://alice.example/profile/"),
        URIRef("https://alice.example/"),
    }


@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        (
            formats.RDFXML,
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            b'xmlns:f="http://xmlns.com/foaf/0.1/"><rdf:Description rdf:about="#me"><f:name>A</f:name>'
            b"</rdf:Description></rdf:RDF>",
        ),
        (formats.JSONLD, b'{"@id": "#me", "http://xmlns.com/foaf/0.1/name": "A"}'),
        (formats.N3, b'<#me> <http://xmlns.com/foaf/0.1/name> "A" .'),
    ],
)
def test_relative_iris_in_other_formats_resolve_against_the_base(media_type: str, body: bytes) -> None:
    graph = parse(body, media_type, BASE, LIMITS)
    assert set(graph) == {(URIRef(BASE + "#me"), FOAF.name, Literal("A"))}


def test_turtle_output_is_relative_where_safe_and_self_contained() -> None:
    text = serialize(_source("profile"), formats.TURTLE, BASE).decode()
    assert f"@base <{BASE}> ." in text
    assert "<#me>" in text
    assert "<other>" in text
    # Re-read against another base, the document still means the same (its @base wins).
    assert same(
        parse(text.encode(), formats.TURTLE, "http://elsewhere.example/x", LIMITS), _source("profile")
    )


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        (BASE, ""),
        (BASE + "#me", "#me"),
        ("https://alice.example/profile/other", "other"),
        ("https://alice.example/profile/child/", "child/"),
        ("https://alice.example/profile/doc.ttl#x", "doc.ttl#x"),
        ("https://alice.example/profile/card2", "card2"),
        ("https://alice.example/profile/a:b", None),  # would read as scheme "a"
        ("https://alice.example/profile/..x", None),
        ("https://alice.example/profile/.hidden", None),
        ("https://alice.example/profile//twice", None),
        ("https://alice.example/profile/card?x=1", None),
        ("https://alice.example/profile/", None),
        ("https://alice.example/other/x", None),
        ("https://alice.example.evil/profile/x", None),
    ],
)
def test_relative_iri_is_only_used_when_unambiguous(iri: str, expected: str | None) -> None:
    relative = relative_iri(iri, BASE)
    assert relative == expected
    if relative is not None:
        assert urljoin(BASE, relative) == iri


def test_ntriples_and_nquads_output_absolute_iris_one_statement_per_line() -> None:
    graph = _source("profile")
    for media_type in (formats.NTRIPLES, formats.NQUADS):
        lines = [line for line in serialize(graph, media_type, BASE).decode().splitlines() if line]
        assert len(lines) == len(graph)
        assert all(line.endswith(" .") and "<#" not in line for line in lines)


def test_rdfxml_output_has_no_xml_base_and_absolute_iris() -> None:
    text = serialize(_source("profile"), formats.RDFXML, BASE).decode()
    assert "xml:base" not in text
    assert f'rdf:about="{BASE}#me"' in text


# ---------------------------------------------------------------------------------------------
# JSON-LD output
# ---------------------------------------------------------------------------------------------


def _jsonld(profile: str | None = None, name: str = "profile") -> object:
    return json.loads(serialize(_source(name), formats.JSONLD, BASE, jsonld_profile=profile))


def test_jsonld_default_output_is_compacted_with_prefixes_of_the_graph_and_solid() -> None:
    document = _jsonld()
    assert isinstance(document, dict)
    context = document["@context"]
    assert context["foaf"] == str(FOAF)
    assert context["solid"] == "http://www.w3.org/ns/solid/terms#"
    assert context["ex"] == "http://example.org/vocab#"
    me = next(node for node in document["@graph"] if node["@id"] == BASE + "#me")
    assert me["@type"] == "foaf:Person"
    assert me["ex:age"] == 42
    assert me["ex:member"] is True
    assert me["ex:height"] == {"@value": "1.68", "@type": "xsd:decimal"}
    assert {"@value": "Alicia", "@language": "es-MX"} in me["foaf:name"]
    assert "Alice" in me["foaf:name"]


def test_jsonld_common_solid_prefixes_are_used_even_when_the_graph_has_none() -> None:
    body = b"<https://a.example/s> <http://www.w3.org/ns/ldp#contains> <https://a.example/s/x> ."
    graph = parse(body, formats.NTRIPLES, "https://a.example/s", LIMITS)
    document = json.loads(serialize(graph, formats.JSONLD, "https://a.example/s"))
    assert document == {
        "@context": {"ldp": "http://www.w3.org/ns/ldp#"},
        "@id": "https://a.example/s",
        "ldp:contains": {"@id": "https://a.example/s/x"},
    }


def test_jsonld_expanded_profile_gives_expanded_form() -> None:
    document = _jsonld(str(JSONLD.expanded))
    assert isinstance(document, list)
    assert all("@context" not in node for node in document)
    me = next(node for node in document if node["@id"] == BASE + "#me")
    assert me["@type"] == [str(FOAF.Person)]
    assert {"@value": "42", "@type": str(XSD.integer)} in me["http://example.org/vocab#age"]
    assert {"@value": "Alice"} in me[str(FOAF.name)]


def test_jsonld_flattened_profile_puts_every_node_at_the_top_level() -> None:
    document = _jsonld(str(JSONLD.flattened))
    assert isinstance(document, list)
    ids = {node["@id"] for node in document}
    for node in document:
        for key, values in node.items():
            if key.startswith("@"):
                continue
            for value in values:
                assert set(value) <= {"@id", "@value", "@type", "@language"}
                if "@id" in value and value["@id"].startswith("_:"):
                    assert value["@id"] in ids  # referenced, not embedded


def test_jsonld_flattened_and_compacted_profiles_together() -> None:
    document = _jsonld(f"{JSONLD.flattened} {JSONLD.compacted}")
    assert isinstance(document, dict)
    assert "@context" in document and "@graph" in document


def test_jsonld_single_node_is_written_without_graph() -> None:
    graph = Graph()
    graph.add((URIRef("https://a.example/s"), FOAF.name, Literal("A")))
    document = json.loads(serialize(graph, formats.JSONLD, "https://a.example/s"))
    assert document == {"@context": {"foaf": str(FOAF)}, "@id": "https://a.example/s", "foaf:name": "A"}


def test_jsonld_prefix_named_like_a_scheme_is_not_used() -> None:
    """``urn:isbn:1`` in full would read as a compact IRI if ``urn`` were a prefix."""
    document = _jsonld(name="iris")
    assert isinstance(document, dict)
    assert "urn" not in document["@context"]
    assert same(parse(json.dumps(document).encode(), formats.JSONLD, BASE, LIMITS), _source("iris"))


def test_jsonld_input_prefixes_are_kept_for_output() -> None:
    body = b'{"@context": {"ex": "http://example.org/vocab#", "name": "http://xmlns.com/foaf/0.1/name"},'
    body += b' "@id": "#me", "ex:age": 5, "name": "A"}'
    graph = parse(body, formats.JSONLD, BASE, LIMITS)
    assert "@prefix ex: <http://example.org/vocab#> ." in serialize(graph, formats.TURTLE, BASE).decode()
    assert json.loads(serialize(graph, formats.JSONLD, BASE))["ex:age"] == 5


def test_serializing_does_not_change_the_graphs_prefixes() -> None:
    body = b"<http://a.example/s> <http://unknown.example/ns#p> <http://unknown.example/ns#o> ."
    graph = parse(body, formats.TURTLE, BASE, LIMITS)
    before = set(graph.namespaces())
    for media_type in formats.WRITABLE:
        serialize(graph, media_type, BASE)
    assert set(graph.namespaces()) == before
    assert "<http://unknown.example/ns#p>" in serialize(graph, formats.TURTLE, BASE).decode()


def test_jsonld_empty_graph() -> None:
    assert json.loads(serialize(Graph(), formats.JSONLD, BASE)) == {"@graph": []}
    assert json.loads(serialize(Graph(), formats.JSONLD, BASE, jsonld_profile=str(JSONLD.expanded))) == []


# ---------------------------------------------------------------------------------------------
# Errors and their line numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media_type", "body", "line"),
    [
        (formats.TURTLE, b"@prefix ex: <http://ex/> .\nex:a ex:b ex:c .\nex:a ex:b ex:c ex:d .\n", 3),
        (formats.TURTLE, b"@prefix ex: <http://ex/> .\nex:a ex:b ex:c .\n\nex:a ex:b\n\n", 4),
        (formats.TURTLE, b'@prefix ex: <http://ex/> .\n\n\nex:a ex:b "unterminated .\n', 4),
        (formats.TURTLE, b"@prefix ex: <http://ex/> .\nex:a ex:b ex:c .\nfoo:a ex:b ex:c .\n", 3),
        (formats.TURTLE, b"<http://ex/a> <http://ex/b> ", 1),
        (formats.N3, b"@prefix ex: <http://ex/> .\n\nex:a ex:b ex:c ex:d .\n", 3),
        (formats.NTRIPLES, b"<http://a> <http://b> <http://c> .\n\n<http://a> <http://b> .\n", 3),
        (
            formats.NTRIPLES,
            b"<http://a> <http://b> <http://c> .\r\n<relative> <http://b> <http://c> .\r\n",
            2,
        ),
        (
            formats.NQUADS,
            b"<http://a> <http://b> <http://c> .\n# c\n<http://a> <http://b> <http://c> <g> x .\n",
            3,
        ),
        (
            formats.RDFXML,
            b"<?xml version='1.0'?>\n<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
            b"\n<rdf:Description>\n</rdf:RDFx>\n",
            4,
        ),
        (
            formats.RDFXML,
            b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n\n"
            b"<rdf:Description rdf:nodeID='not valid'/>\n</rdf:RDF>",
            3,
        ),
        (formats.JSONLD, b'{\n  "@id": "http://a",\n  "http://p": \n}', 4),
    ],
)
def test_syntax_errors_carry_the_line(media_type: str, body: bytes, line: int) -> None:
    with pytest.raises(InvalidRdf) as caught:
        parse(body, media_type, BASE, LIMITS)
    assert caught.value.line == line
    assert caught.value.status == 400
    assert "\n" not in caught.value.detail
    assert caught.value.detail.startswith(f"line {line}: ")


@pytest.mark.parametrize(
    "media_type", [formats.TURTLE, formats.N3, formats.NTRIPLES, formats.NQUADS, formats.JSONLD]
)
def test_bad_utf8_is_invalid_rdf_with_its_line(media_type: str) -> None:
    body = b'<http://a> <http://b> "ok" .\n<http://a> <http://b> "\xff\xfe" .\n'
    if media_type == formats.JSONLD:
        body = b'{"@id": "http://a",\n "http://b": "\xff"}'
    with pytest.raises(InvalidRdf) as caught:
        parse(body, media_type, BASE, LIMITS)
    assert caught.value.line == 2
    assert "UTF-8" in caught.value.detail


def test_bad_utf8_in_rdfxml_is_invalid_rdf() -> None:
    body = b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n\xff\xfe</rdf:RDF>"
    with pytest.raises(InvalidRdf) as caught:
        parse(body, formats.RDFXML, BASE, LIMITS)
    assert caught.value.line == 2


def test_turtle_long_strings_with_single_quotes() -> None:
    body = b"<http://a> <http://b> '''it's\n\"multi\"\nline''' ."
    assert str(next(parse(body, formats.TURTLE, BASE, LIMITS).objects())) == 'it\'s\n"multi"\nline'


def test_a_leading_bom_is_ignored() -> None:
    graph = parse(b"\xef\xbb\xbf<http://a> <http://b> <http://c> .", formats.TURTLE, BASE, LIMITS)
    assert len(graph) == 1


def test_unsupported_media_types() -> None:
    with pytest.raises(UnsupportedMediaType):
        parse(b"x", "text/plain", BASE, LIMITS)
    with pytest.raises(UnsupportedMediaType):
        serialize(Graph(), formats.N3, BASE)


def test_media_type_parameters_and_aliases_are_accepted() -> None:
    body = b"<http://a> <http://b> <http://c> ."
    assert len(parse(body, "Text/Turtle; charset=utf-8", BASE, LIMITS)) == 1
    assert len(parse(body, "application/x-turtle", BASE, LIMITS)) == 1
    assert serialize(parse(body, formats.TURTLE, BASE, LIMITS), "text/turtle;charset=utf-8", BASE)


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------


def test_max_bytes_is_413() -> None:
    body = b"<http://a> <http://b> <http://c> ."
    with pytest.raises(PayloadTooLarge):
        parse(body, formats.TURTLE, BASE, RdfLimits(max_bytes=len(body) - 1))
    assert len(parse(body, formats.TURTLE, BASE, RdfLimits(max_bytes=len(body)))) == 1


@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        (formats.TURTLE, b"<http://a> <http://b> 1, 2, 3, 4 ."),
        (formats.NTRIPLES, b"".join(b'<http://a> <http://b> "%d" .\n' % i for i in range(4))),
        (formats.NQUADS, b"".join(b'<http://a> <http://b> "%d" .\n' % i for i in range(4))),
        (formats.JSONLD, b'{"@id": "http://a", "http://b": [1, 2, 3, 4]}'),
        (
            formats.RDFXML,
            b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' xmlns:e='http://e/'>"
            b"<rdf:Description rdf:about='http://a'><e:b>1</e:b><e:b>2</e:b><e:b>3</e:b><e:b>4</e:b>"
            b"</rdf:Description></rdf:RDF>",
        ),
    ],
)
def test_max_triples_is_400_naming_the_limit(media_type: str, body: bytes) -> None:
    assert len(parse(body, media_type, BASE, RdfLimits(max_triples=4))) == 4
    with pytest.raises(BadRequest, match="max_triples") as caught:
        parse(body, media_type, BASE, RdfLimits(max_triples=3))
    assert not isinstance(caught.value, InvalidRdf)


def test_max_literal_bytes_counts_utf8_bytes() -> None:
    body = '<http://a> <http://b> "ééééé" .'.encode()  # 5 characters, 10 bytes
    assert len(parse(body, formats.TURTLE, BASE, RdfLimits(max_literal_bytes=10))) == 1
    with pytest.raises(BadRequest, match="max_literal_bytes"):
        parse(body, formats.TURTLE, BASE, RdfLimits(max_literal_bytes=9))


def test_graph_is_unlimited_after_parsing() -> None:
    graph = parse(b"<http://a> <http://b> 1 .", formats.TURTLE, BASE, RdfLimits(max_triples=1))
    graph.add((URIRef("http://a"), URIRef("http://b"), Literal(2)))
    assert len(graph) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"[" * 100_000, "max_jsonld_depth"), (b'{"a":' * 50_000, "max_jsonld_depth"), (b"{" * 100_000, "JSON")],
    ids=["arrays", "objects", "braces"],
)
def test_very_deep_json_is_a_clean_400(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse(body, formats.JSONLD, BASE, LIMITS)


def test_json_depth_limit_is_exact() -> None:
    def nested(depth: int) -> bytes:  # a node object (depth 1) with a value nested in arrays
        return b'{"@id": "http://a", "http://b": ' + b"[" * (depth - 1) + b'"x"' + b"]" * (depth - 1) + b"}"

    assert len(parse(nested(8), formats.JSONLD, BASE, RdfLimits(max_jsonld_depth=8))) == 1
    with pytest.raises(BadRequest, match="max_jsonld_depth"):
        parse(nested(9), formats.JSONLD, BASE, RdfLimits(max_jsonld_depth=8))


@pytest.mark.parametrize("opening", [b"[ <http://b> ", b"( "])
def test_very_deep_turtle_is_a_clean_400(opening: bytes) -> None:
    closing = b"]" if opening.startswith(b"[") else b")"
    body = b"<http://a> <http://b> " + opening * 20_000 + b"<http://c>" + closing * 20_000 + b" ."
    with pytest.raises(BadRequest):
        parse(body, formats.TURTLE, BASE, LIMITS)


# ---------------------------------------------------------------------------------------------
# RDF/XML entities
# ---------------------------------------------------------------------------------------------

_RDF_OPEN = b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex/">'


def test_billion_laughs_is_refused() -> None:
    entities = b'<!ENTITY lol0 "lol">\n' + b"".join(
        b'<!ENTITY lol%d "%s">\n' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10)))
        for i in range(1, 10)
    )
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n'
        + entities
        + b"]>\n"
        + _RDF_OPEN
        + b'<rdf:Description rdf:about="http://a"><ex:p>&lol9;</ex:p></rdf:Description></rdf:RDF>'
    )
    with pytest.raises(InvalidRdf, match="lol1") as caught:
        parse(body, formats.RDFXML, BASE, LIMITS)
    assert caught.value.line == 4


def test_quadratic_blowup_is_refused() -> None:
    body = (
        b'<!DOCTYPE rdf:RDF [<!ENTITY a "'
        + b"x" * 1000
        + b'">]>'
        + _RDF_OPEN
        + b'<rdf:Description rdf:about="http://a"><ex:p>'
        + b"&a;" * 10_000
        + b"</ex:p></rdf:Description></rdf:RDF>"
    )
    with pytest.raises(InvalidRdf, match="expand"):
        parse(body, formats.RDFXML, BASE, LIMITS)


@pytest.mark.parametrize(
    "declaration",
    [
        b'<!ENTITY ext SYSTEM "file:///etc/passwd">',
        b'<!ENTITY % pe "x">',
        b'<!ENTITY ext PUBLIC "-//x" "http://x/">',
    ],
)
def test_external_and_parameter_entities_are_refused(declaration: bytes) -> None:
    body = (
        b"<!DOCTYPE rdf:RDF ["
        + declaration
        + b"]>"
        + _RDF_OPEN
        + b'<rdf:Description rdf:about="http://a"><ex:p>x</ex:p></rdf:Description></rdf:RDF>'
    )
    with pytest.raises(InvalidRdf, match="entit"):
        parse(body, formats.RDFXML, BASE, LIMITS)


def test_external_dtd_is_not_loaded() -> None:
    body = (
        b'<!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:9/never.dtd">'
        + _RDF_OPEN
        + b'<rdf:Description rdf:about="http://a"><ex:p>x</ex:p></rdf:Description></rdf:RDF>'
    )
    assert len(parse(body, formats.RDFXML, BASE, LIMITS)) == 1


def test_namespace_abbreviation_entities_still_work() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [ <!ENTITY ex "http://ex/"> ]>\n'
        + _RDF_OPEN
        + b'<rdf:Description rdf:about="&ex;a"><ex:p rdf:resource="&ex;b"/></rdf:Description></rdf:RDF>'
    )
    graph = parse(body, formats.RDFXML, BASE, LIMITS)
    assert set(graph) == {(URIRef("http://ex/a"), URIRef("http://ex/p"), URIRef("http://ex/b"))}


# ---------------------------------------------------------------------------------------------
# Graphs some writable format could not express are refused
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media_type", "body", "message"),
    [
        # IRIs rdflib reads from N-Triples escapes but cannot write as Turtle, N-Triples or RDF/XML.
        (formats.NTRIPLES, rb"<http://a> <http://b> <http://c\u0020d> .", "not an absolute IRI"),
        (formats.NTRIPLES, rb"<http://a\u003Cb\u003E> <http://b> <http://c> .", "not an absolute IRI"),
        (formats.NTRIPLES, rb"<http://a> <http://b> <http://c{d}> .", "not an absolute IRI"),
        (formats.NTRIPLES, rb'<http://a> <http://b> "x"^^<http://c\u0020d> .', "datatype"),
        (formats.TURTLE, rb"<http://a> <http://b> <http://c\u0020d> .", "not an absolute IRI"),
        (
            formats.JSONLD,
            b'{"@id": "http://a", "http://b": {"@id": "http://c\\u0001d"}}',
            "not an absolute IRI",
        ),
        # Predicates RDF/XML cannot write as an XML QName, or that are RDF/XML syntax terms.
        (formats.TURTLE, b"<http://a> <http://ex/1> <http://c> .", "QName"),
        (formats.TURTLE, b"<http://a> <http://ex/p/> <http://c> .", "QName"),
        (formats.TURTLE, b"<http://a> <urn:x:1> <http://c> .", "QName"),
        (
            formats.NTRIPLES,
            b"<http://a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#li> <http://c> .",
            "syntax term",
        ),
        (
            formats.NTRIPLES,
            b"<http://a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#about> <http://c> .",
            "syntax term",
        ),
        # Invalid language tags (JSON-LD does not check them).
        (
            formats.JSONLD,
            b'{"@id": "http://a", "http://b": {"@value": "x", "@language": "en us"}}',
            "language tag",
        ),
        (
            formats.JSONLD,
            b'{"@id": "http://a", "http://b": {"@value": "x", "@language": "en-"}}',
            "language tag",
        ),
        # Literals with invalid lexical forms for numeric or boolean datatypes.
        (
            formats.TURTLE,
            b'<http://a> <http://b> "abc"^^<http://www.w3.org/2001/XMLSchema#integer> .',
            "xsd:integer",
        ),
        (formats.TURTLE, b'<http://a> <http://b> "1.5"^^<http://www.w3.org/2001/XMLSchema#int> .', "xsd:int"),
        (
            formats.NTRIPLES,
            b'<http://a> <http://b> "abc"^^<http://www.w3.org/2001/XMLSchema#double> .',
            "xsd:double",
        ),
        (
            formats.JSONLD,
            b'{"@id": "http://a", "http://b": {"@value": "x", "@type": '
            b'"http://www.w3.org/2001/XMLSchema#decimal"}}',
            "xsd:decimal",
        ),
        # Characters XML cannot carry, and lone surrogates UTF-8 cannot encode.
        (formats.NTRIPLES, rb'<http://a> <http://b> "a\u0000b" .', "U+0000"),
        (formats.TURTLE, rb'<http://a> <http://b> "bell\u0007" .', "U+0007"),
        (formats.TURTLE, rb'<http://a> <http://b> "a\uD800b" .', "U+D800"),
        (formats.JSONLD, b'{"@id": "http://a", "http://b": "\\ufffe"}', "U+FFFE"),
    ],
)
def test_graphs_that_cannot_be_written_in_every_format_are_refused(
    media_type: str, body: bytes, message: str
) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)) as caught:
        parse(body, media_type, BASE, LIMITS)
    assert caught.value.status == 400


def test_refused_terms_in_ntriples_name_their_line() -> None:
    body = b"<http://a> <http://b> <http://c> .\n<http://a> <http://b> <http://c\\u0020d> .\n"
    with pytest.raises(InvalidRdf) as caught:
        parse(body, formats.NTRIPLES, BASE, LIMITS)
    assert caught.value.line == 2


def test_ill_typed_boolean_is_refused() -> None:
    body = b'<http://a> <http://b> "yes"^^<http://www.w3.org/2001/XMLSchema#boolean> .'
    # rdflib also warns "Parsing weird boolean"; pytest turns that into an error, which parse
    # must still report as a 400.
    with pytest.raises(BadRequest):
        parse(body, formats.TURTLE, BASE, LIMITS)


def test_ill_typed_dates_are_kept_as_sent() -> None:
    body = b'<http://a> <http://b> "2024-02-30"^^<http://www.w3.org/2001/XMLSchema#date> .'
    graph = parse(body, formats.TURTLE, BASE, LIMITS)
    for media_type in formats.WRITABLE:
        assert same(parse(serialize(graph, media_type, BASE), media_type, BASE, LIMITS), graph)


def test_line_breaks_and_tabs_are_fine_in_literals() -> None:
    body = rb'<http://a> <http://b> "a\tb\nc\rd" .'
    graph = parse(body, formats.TURTLE, BASE, LIMITS)
    assert str(next(graph.objects())) == "a\tb\nc\rd"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"@prefix ex: <http://ex/> .\n{ ex:a ex:b ex:c } => { ex:a ex:b ex:d } .\n", "formulae"),
        (b"@prefix ex: <http://ex/> .\n?x ex:b ex:c .\n", "subject"),
        (b'@prefix ex: <http://ex/> .\n"lit" ex:b ex:c .\n', "subject"),
        (b"@prefix ex: <http://ex/> .\n@forAll <#x> . <#x> ex:b ex:c .\n", "subject"),
    ],
)
def test_n3_beyond_plain_triples_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse(body, formats.N3, BASE, LIMITS)


def test_plain_n3_is_read() -> None:
    body = b"@prefix ex: <http://ex/> .\nex:a ex:b ex:c ; = ex:d .\nex:a ex:e ( 1 2 ) .\n"
    graph = parse(body, formats.N3, BASE, LIMITS)
    assert (URIRef("http://ex/a"), URIRef("http://ex/b"), URIRef("http://ex/c")) in graph
    assert len(graph) == 7  # 3 statements and a 2-item list (4 triples)


def test_nquads_in_named_graphs_are_refused_with_the_line() -> None:
    body = b"<http://a> <http://b> <http://c> .\n<http://a> <http://b> <http://c> <http://g> .\n"
    with pytest.raises(BadRequest, match="named graph") as caught:
        parse(body, formats.NQUADS, BASE, LIMITS)
    assert "line 2" in caught.value.detail


def test_nquads_in_the_default_graph_are_read() -> None:
    body = b'<http://a> <http://b> <http://c> .\n_:x <http://b> "y"@en .\n'
    assert len(parse(body, formats.NQUADS, BASE, LIMITS)) == 2


def test_jsonld_named_graphs_are_refused() -> None:
    body = b'{"@id": "http://g", "@graph": [{"@id": "http://a", "http://b": "c"}]}'
    with pytest.raises(BadRequest, match="named graph"):
        parse(body, formats.JSONLD, BASE, LIMITS)


def test_jsonld_default_graph_with_graph_keyword_is_read() -> None:
    body = b'{"@graph": [{"@id": "http://a", "http://b": "c"}, {"@id": "http://d", "http://b": "e"}]}'
    assert len(parse(body, formats.JSONLD, BASE, LIMITS)) == 2


# ---------------------------------------------------------------------------------------------
# check_graph and serialize on hand-built graphs
# ---------------------------------------------------------------------------------------------


def test_check_graph_applies_the_same_rules() -> None:
    graph = Graph()
    graph.add((URIRef("http://a"), URIRef("http://b"), Literal("ok")))
    check_graph(graph, LIMITS)
    graph.add((URIRef("http://a"), URIRef("http://ex/1"), Literal("x")))
    with pytest.raises(BadRequest, match="QName"):
        check_graph(graph, LIMITS)
    with pytest.raises(BadRequest, match="max_triples"):
        check_graph(graph, RdfLimits(max_triples=1))


def test_check_graph_refuses_blank_node_predicates() -> None:
    graph = Graph()
    graph.add((URIRef("http://a"), BNode(), Literal("x")))
    with pytest.raises(BadRequest, match="predicate"):
        check_graph(graph, LIMITS)


def test_serializing_an_unchecked_unwritable_graph_is_a_server_error() -> None:
    graph = Graph()
    graph.add((URIRef("http://a"), URIRef("http://ex/1"), Literal("x")))
    with pytest.raises(StorageError):
        serialize(graph, formats.RDFXML, BASE)


def test_rdf_type_with_a_blank_node_or_literal_object() -> None:
    graph = Graph()
    graph.add((URIRef("http://a"), RDF.type, BNode("b1")))
    graph.add((URIRef("http://a"), RDF.type, Literal("odd")))
    graph.add((BNode("b1"), FOAF.name, Literal("class")))
    for media_type in formats.WRITABLE:
        assert same(parse(serialize(graph, media_type, BASE), media_type, BASE, LIMITS), graph)
