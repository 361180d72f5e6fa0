"""JSON-LD profiles and frames: pod_server.rdf.jsonld (parse_frame, apply_frame) and the framed
path of pod_server.rdf.convert.serialize. Nothing here may touch the network."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from rdflib import BNode, Graph

from pod_server.errors import BadRequest, UnprocessableContent
from pod_server.rdf import convert, formats
from pod_server.rdf.convert import jsonld_content_type, jsonld_profiles, parse, serialize
from pod_server.rdf.jsonld import MAX_FRAME_BYTES, JsonLdFrame, apply_frame, parse_frame
from pod_server.rdf.limits import RdfLimits
from pod_server.vocab import FOAF, JSONLD

BASE = "https://alice.example/people"
LIMITS = RdfLimits()
PEOPLE = b"""@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<#alice> a foaf:Person ; foaf:name "Alice" ; foaf:knows <#bob>, [ foaf:name "Carol" ] .
<#bob> a foaf:Person ; foaf:name "Bob" ; foaf:knows <#alice> .
"""
VOCAB = {"@vocab": str(FOAF)}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield


def people() -> Graph:
    return parse(PEOPLE, formats.TURTLE, BASE, LIMITS)


def framed(frame: dict[str, Any], graph: Graph | None = None) -> Any:
    body = serialize(graph or people(), formats.JSONLD, BASE, jsonld_frame=parse_frame(json.dumps(frame)))
    return json.loads(body)


# -- which form the response names ----------------------------------------------------------------

E, C, F = str(JSONLD.expanded), str(JSONLD.compacted), str(JSONLD.flattened)


@pytest.mark.parametrize(
    ("profile", "served"),
    [
        (None, ()),
        ("https://unknown.example/profile", ()),
        (E, (E,)),
        (C, (C,)),
        (F, (F,)),
        (f"{C} {F}", (F, C)),
        (f"{F} {E}", (F, E)),
        (f"{E} {C}", (C,)),  # both asked: compacted wins, as the serialiser writes it
        (f"{E} https://unknown.example/p", (E,)),
    ],
)
def test_profiles_served_for_a_requested_profile(profile: str | None, served: tuple[str, ...]) -> None:
    assert jsonld_profiles(profile) == served
    expected = formats.JSONLD if not served else f'{formats.JSONLD}; profile="{" ".join(served)}"'
    assert jsonld_content_type(profile) == expected


def test_a_frame_makes_the_framed_profile() -> None:
    assert jsonld_profiles(E, framed=True) == (str(JSONLD.framed),)
    assert jsonld_content_type(None, framed=True) == f'{formats.JSONLD}; profile="{JSONLD.framed}"'


# -- parse_frame -----------------------------------------------------------------------------------


def test_equal_frames_have_one_canonical_text_and_digest() -> None:
    a = parse_frame('{"@type": "Person",  "@context": {"@vocab": "http://xmlns.com/foaf/0.1/"}}')
    b = parse_frame('{"@context":{"@vocab":"http://xmlns.com/foaf/0.1/"},"@type":"Person"}')
    c = parse_frame('{"@context":{"@vocab":"http://xmlns.com/foaf/0.1/"},"@type":"Agent"}')
    assert a == b and a.digest == b.digest
    assert a.digest != c.digest
    assert a.document() == {"@context": VOCAB, "@type": "Person"}
    a.document()["@type"] = "changed"  # each call is a fresh copy
    assert a.document()["@type"] == "Person"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", "not valid JSON: Expecting property name"),
        ("", "not valid JSON"),
        ("[]", "a JSON-LD frame is a JSON object"),
        ('"https://x.example/frame.jsonld"', "a JSON-LD frame is a JSON object"),
        ("null", "a JSON-LD frame is a JSON object"),
        ('{"a":' * 40 + "1" + "}" * 40, "nests deeper than the limit of 32 levels"),
        ("[" * 20000 + "]" * 20000, "bytes; the limit is 16384"),
        ('{"x": "' + "a" * MAX_FRAME_BYTES + '"}', "bytes; the limit is 16384"),
    ],
)
def test_a_bad_frame_is_a_400_that_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_frame(text)


# -- apply_frame and serialize ---------------------------------------------------------------------


def test_a_frame_makes_a_tree_of_a_person_and_who_they_know() -> None:
    document = framed({"@context": VOCAB, "@id": "#alice", "knows": {}})
    assert document["@context"] == VOCAB
    assert document["@id"] == BASE + "#alice"  # relative @id in the frame: against the document
    assert document["@type"] == "Person" and document["name"] == "Alice"
    known = {node.get("name"): node for node in document["knows"]}
    assert set(known) == {"Bob", "Carol"}
    assert known["Bob"]["@id"] == BASE + "#bob"
    assert known["Bob"]["knows"] == {"@id": BASE + "#alice"}  # back to Alice: a reference, no loop
    assert "@id" not in known["Carol"]  # a blank node used once loses its label (JSON-LD 1.1)


def test_a_frame_matching_several_nodes_writes_them_under_graph() -> None:
    document = framed({"@context": VOCAB, "@type": "Person", "knows": {"@embed": "@never"}})
    assert [node["name"] for node in document["@graph"]] == ["Alice", "Bob"]


def test_output_iris_are_absolute_unless_the_frame_sets_a_base() -> None:
    absolute = framed({"@context": VOCAB, "@id": BASE + "#bob"})
    assert absolute["@id"] == BASE + "#bob"
    relative = framed({"@context": {**VOCAB, "@base": BASE}, "@id": "#bob"})
    assert relative["@id"] == "#bob"


def test_a_frame_may_use_a_bundled_context() -> None:
    graph = parse(
        b"<https://a.example/n> a <https://www.w3.org/ns/activitystreams#Note> ; "
        b'<https://www.w3.org/ns/activitystreams#content> "hi" .',
        formats.TURTLE,
        BASE,
        LIMITS,
    )
    document = framed({"@context": "https://www.w3.org/ns/activitystreams", "type": "Note"}, graph)
    assert document["type"] == "Note" and document["content"] == "hi"


@pytest.mark.parametrize(
    "context",
    [
        "https://evil.example/context.jsonld",
        ["https://evil.example/context.jsonld"],
        {"@import": "https://evil.example/context.jsonld"},
        {"Person": {"@id": str(FOAF.Person), "@context": "https://evil.example/scoped"}},
        "relative-context.jsonld",
    ],
)
def test_a_frame_naming_a_remote_context_is_refused_with_422(context: Any) -> None:
    frame: dict[str, Any] = {"@context": context, "@type": str(FOAF.Person)}
    with pytest.raises(UnprocessableContent, match="remote JSON-LD context") as caught:
        framed(frame)
    assert "never fetched" in str(caught.value)


def test_a_frame_never_reaches_pyld_default_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    def loader(url: str, options: Any = None) -> Any:
        raise AssertionError(f"pyld's default document loader was used for {url}")

    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", loader)
    with pytest.raises(UnprocessableContent):
        framed({"@context": "https://evil.example/c", "@type": "Person"})


def test_embed_link_is_refused_because_json_cannot_share_objects() -> None:
    with pytest.raises(UnprocessableContent, match="@link"):
        framed({"@context": VOCAB, "@type": "Person", "@embed": "@link"})


def test_an_invalid_frame_is_a_400() -> None:
    with pytest.raises(BadRequest, match="frame cannot be applied"):
        framed({"@type": 5})


def _chain(length: int) -> Graph:
    """p0 knows p1 knows ... p(length-1): framing every node embeds the rest of the chain."""
    lines = [f"<#p{i}> a foaf:Person ; foaf:knows <#p{i + 1}> ." for i in range(length)]
    body = "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n" + "\n".join(lines)
    return parse(body.encode(), formats.TURTLE, BASE, LIMITS)


def _nodes(graph: Graph) -> list[dict[str, Any]]:
    nodes = json.loads(serialize(graph, formats.JSONLD, BASE, jsonld_profile=str(JSONLD.expanded)))
    assert isinstance(nodes, list)
    return nodes


def test_output_larger_than_the_value_budget_is_refused() -> None:
    """Every top-level match embeds the whole rest of the chain: output quadratic in the graph."""
    frame = parse_frame(json.dumps({"@context": VOCAB, "@type": "Person", "@embed": "@always"}))
    nodes = _nodes(_chain(40))
    assert apply_frame(nodes, frame, BASE, max_values=10_000)["@graph"]
    with pytest.raises(UnprocessableContent, match="more than 500 values"):
        apply_frame(nodes, frame, BASE, max_values=500)


def test_embedding_deeper_than_the_limit_is_refused() -> None:
    frame = parse_frame(json.dumps({"@context": VOCAB, "@id": "#p0"}))
    nodes = _nodes(_chain(30))
    document = apply_frame(nodes, frame, BASE, max_depth=40)
    depth = 0
    node = document
    while isinstance(node, dict) and "knows" in node:
        node, depth = node["knows"], depth + 1
    assert depth == 30
    with pytest.raises(UnprocessableContent, match="more than 10 levels deep"):
        apply_frame(nodes, frame, BASE, max_depth=10)


def test_the_default_depth_limit_stops_a_long_chain_before_python_recursion_does() -> None:
    with pytest.raises(UnprocessableContent, match="levels deep"):
        framed({"@context": VOCAB, "@id": "#p0"}, _chain(400))


def test_a_graph_larger_than_the_framing_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(convert, "MAX_FRAMED_TRIPLES", 5)
    with pytest.raises(
        UnprocessableContent, match="has 8 triples; frames are applied to resources of at most 5"
    ):
        framed({"@context": VOCAB, "@type": "Person"})


def test_the_pyld_internals_the_limits_override_exist() -> None:
    """apply_frame's limits override these JsonLdProcessor methods; a pyld upgrade renaming them
    would silently drop the limits (the tests above would then fail too)."""
    for name in ("_match_frame", "_get_frame_flag", "_add_frame_output", "_compact_iri"):
        assert callable(getattr(pyld_jsonld.JsonLdProcessor, name, None)), name


def test_framed_output_reads_back_as_a_subgraph() -> None:
    document = framed({"@context": VOCAB, "@type": "Person", "knows": {"@embed": "@never"}})
    back = parse(json.dumps(document).encode(), formats.JSONLD, BASE, LIMITS)
    ground = {t for t in back if not any(isinstance(term, BNode) for term in t)}
    assert ground <= set(people()) and len(ground) == 6  # Alice's and Bob's type, name, knows
    assert len(back) == 7  # and Alice knows a blank node (Carol, whose name the frame left out)


def test_a_frame_is_ignored_for_other_formats() -> None:
    frame = JsonLdFrame("{}", "x")
    assert serialize(people(), formats.TURTLE, BASE, jsonld_frame=frame) == serialize(
        people(), formats.TURTLE, BASE
    )
