"""Content digests (model §5): one digest per graph, whatever the syntax; bounded input."""

from __future__ import annotations

import base64
import hashlib

import pytest
from pod_client.digest import content_digest as client_digest

from pod_server.community.digest import (
    DIGEST_PATTERN,
    MAX_BLANK_NODES,
    MAX_TRIPLES,
    canonical_nquads,
    content_digest,
)
from pod_server.errors import UnprocessableContent
from pod_server.rdf.convert import parse
from pod_server.rdf.limits import RdfLimits

BASE = "https://alice.example/contributions/guide"

CONTRIBUTION = b"""@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix om: <http://www.ontology-of-units-of-measure.org/resource/om-2/> .
<#it> a vf:EconomicEvent ; vf:action vf:work ;
  vf:provider <https://alice.example/profile/card#me> ;
  vf:effortQuantity [ a vf:Measure ; vf:hasNumericalValue 3.5 ; vf:hasUnit om:hour ] ;
  vf:note "Rewrote the install guide" .
"""

# The same triples: other prefixes, other order, absolute IRIs, a labelled blank node.
SAME_GRAPH = b"""@prefix v: <https://w3id.org/valueflows/ont/vf#> .
_:m v:hasUnit <http://www.ontology-of-units-of-measure.org/resource/om-2/hour> ;
    v:hasNumericalValue 3.5 ; a v:Measure .
<https://alice.example/contributions/guide#it> v:note "Rewrote the install guide" ;
  v:effortQuantity _:m ; v:provider <https://alice.example/profile/card#me> ;
  v:action v:work ; a v:EconomicEvent .
"""


def test_digest_has_the_published_form() -> None:
    digest = content_digest(CONTRIBUTION, BASE)
    assert DIGEST_PATTERN.match(digest)
    graph = parse(CONTRIBUTION, "text/turtle", BASE, RdfLimits())
    expected = base64.b64encode(hashlib.sha256(canonical_nquads(graph).encode()).digest()).decode()
    assert digest == "sha256-" + expected


def test_same_graph_in_other_turtle_has_the_same_digest() -> None:
    assert content_digest(SAME_GRAPH, BASE) == content_digest(CONTRIBUTION, BASE)


def test_the_fragment_of_the_base_is_ignored() -> None:
    assert content_digest(CONTRIBUTION, BASE + "#it") == content_digest(CONTRIBUTION, BASE)


def test_same_graph_in_ntriples_has_the_same_digest() -> None:
    graph = parse(CONTRIBUTION, "text/turtle", BASE, RdfLimits())
    lines = graph.serialize(format="nt", encoding="utf-8")
    assert content_digest(lines, BASE, "application/n-triples") == content_digest(CONTRIBUTION, BASE)


@pytest.mark.parametrize(
    "old,new",
    [
        (b'"Rewrote the install guide"', b'"Rewrote the install guide!"'),
        (b"3.5", b"4.5"),
        (b"om:hour", b"om:minute"),
        (b"vf:work", b"vf:produce"),
    ],
)
def test_a_changed_term_changes_the_digest(old: bytes, new: bytes) -> None:
    assert old in CONTRIBUTION
    assert content_digest(CONTRIBUTION.replace(old, new), BASE) != content_digest(CONTRIBUTION, BASE)


def test_another_base_changes_the_digest() -> None:
    assert content_digest(CONTRIBUTION, BASE + "-2") != content_digest(CONTRIBUTION, BASE)


def test_server_and_client_agree() -> None:
    assert content_digest(SAME_GRAPH, BASE) == client_digest(CONTRIBUTION, BASE)


def test_too_many_triples_are_refused() -> None:
    body = "".join(f"<#s> <http://ex.example/p> {n} .\n" for n in range(MAX_TRIPLES + 1)).encode()
    with pytest.raises(UnprocessableContent, match="triples"):
        content_digest(body, BASE)


def test_too_many_blank_nodes_are_refused() -> None:
    body = "".join(f'[] <http://ex.example/p> "{n}" .\n' for n in range(MAX_BLANK_NODES + 1)).encode()
    with pytest.raises(UnprocessableContent, match="blank nodes"):
        content_digest(body, BASE)


def _ring(n: int) -> bytes:
    return "".join(f"_:b{i} <http://ex.example/p> _:b{(i + 1) % n} .\n" for i in range(n)).encode()


@pytest.mark.parametrize(
    "body",
    [
        _ring(MAX_BLANK_NODES - 1),  # look-alike nodes: deep Hash N-Degree Quads recursion
        "".join(  # a complete graph of 8 look-alike nodes: 7! permutations per node
            f"_:k{i} <http://ex.example/p> _:k{j} .\n" for i in range(8) for j in range(8) if i != j
        ).encode(),
    ],
    ids=["long-ring", "clique"],
)
def test_poison_graphs_are_refused_quickly(body: bytes) -> None:
    with pytest.raises(UnprocessableContent, match="too symmetrical"):
        content_digest(body, BASE, "application/n-triples")


def test_small_symmetric_graphs_still_canonicalise() -> None:
    relabelled = _ring(12).replace(b"_:b", b"_:x")
    assert content_digest(_ring(12), BASE, "application/n-triples") == content_digest(
        relabelled, BASE, "application/n-triples"
    )


def test_unparseable_body_is_unprocessable() -> None:
    with pytest.raises(UnprocessableContent, match=BASE):
        content_digest(b"<#it> a ", BASE)
