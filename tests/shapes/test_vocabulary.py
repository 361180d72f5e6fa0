"""The published vocabulary (vocab/cbpp.ttl) and JSON-LD context (vocab/cbpp.jsonld) agree with the
terms code uses (pod_server.vocab.CBPP and KIND): every term there is defined here and nothing else
is; every kind is a top concept of the kinds scheme; the shapes list exactly the kinds; the context
expands short names to the same IRIs (docs/community-model.md §1, docs/vocabulary.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyshacl
import pytest
from pyld import jsonld
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, DefinedNamespaceMeta

from pod_server.vocab import (
    AS,
    CBPP,
    DCTERMS,
    FOAF,
    KIND,
    LDP,
    ODRL2,
    OM,
    OPENGOV,
    ORG,
    PIM,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SH,
    SKOS,
    SOLID,
    TIME,
    VCARD,
    VF,
    XSD,
)
from tests import doc_blocks

REPO = Path(__file__).resolve().parents[2]
TURTLE = REPO / "vocab" / "cbpp.ttl"
CONTEXT = REPO / "vocab" / "cbpp.jsonld"
ONTOLOGY = URIRef("https://w3id.org/pod-server/cbpp")
CONTEXT_URL = "https://pods.example/.ns/cbpp.jsonld"


def terms(namespace: DefinedNamespaceMeta) -> dict[str, URIRef]:
    """The terms a DefinedNamespace class declares, by local name."""
    return {name: namespace._NS[name] for name in namespace.__annotations__}


CBPP_TERMS = terms(CBPP)
KIND_TERMS = terms(KIND)
KINDS = {name: iri for name, iri in KIND_TERMS.items() if name != "scheme"}


@pytest.fixture(scope="module")
def vocab() -> Graph:
    return Graph().parse(TURTLE, format="turtle")


def mentioned(graph: Graph, namespace: DefinedNamespaceMeta) -> set[URIRef]:
    prefix = str(namespace._NS)
    return {t for t in graph.all_nodes() if isinstance(t, URIRef) and t.startswith(prefix)}


def test_the_ontology_has_a_header(vocab: Graph) -> None:
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in vocab
    for predicate in (DCTERMS.title, OWL.versionInfo, DCTERMS.created):
        assert isinstance(vocab.value(ONTOLOGY, predicate), Literal), predicate


@pytest.mark.parametrize("name", sorted(CBPP_TERMS))
def test_every_cbpp_term_in_code_is_defined(vocab: Graph, name: str) -> None:
    iri = CBPP_TERMS[name]
    types = set(vocab.objects(iri, RDF.type))
    assert types, f"cbpp:{name} has no rdf:type in vocab/cbpp.ttl"
    assert isinstance(vocab.value(iri, RDFS.label), Literal)
    assert len(str(vocab.value(iri, RDFS.comment) or "")) > 10
    assert vocab.value(iri, RDFS.isDefinedBy) == ONTOLOGY
    if name[0].isupper() and OWL.Class not in types:  # an individual: typed by a class defined here
        assert types & {CBPP.Visibility, CBPP.Weighting}, name
    if name[0].islower() and not types & {OWL.ObjectProperty, OWL.DatatypeProperty}:
        assert ODRL2.Action in types, name  # the lower-case terms that are not properties are actions


def test_nothing_but_the_code_terms_is_defined(vocab: Graph) -> None:
    assert mentioned(vocab, CBPP) == set(CBPP_TERMS.values())
    assert mentioned(vocab, KIND) == set(KIND_TERMS.values())


def test_the_odrl_actions_are_actions(vocab: Graph) -> None:
    actions = set(vocab.subjects(RDF.type, ODRL2.Action))
    assert actions == {CBPP.acknowledge, CBPP.vote, CBPP.propose, CBPP.invite, CBPP.admit}


@pytest.mark.parametrize(
    ("sub", "sup"),
    [
        (CBPP.Contribution, VF.EconomicEvent),
        (CBPP.Community, ORG.Organization),
        (CBPP.Acknowledgement, AS.Activity),
        (CBPP.AdmitMember, CBPP.Effect),
        (CBPP.AdoptDecisionRule, CBPP.Effect),
        (CBPP.Founding, PROV.Activity),
    ],
)
def test_classes_extend_what_they_specialise(vocab: Graph, sub: URIRef, sup: URIRef) -> None:
    assert sup in set(vocab.objects(sub, RDFS.subClassOf))


def test_every_domain_and_range_is_a_known_class(vocab: Graph) -> None:
    for predicate in (RDFS.domain, RDFS.range):
        for _, cls in vocab.subject_objects(predicate):
            if str(cls).startswith(str(CBPP._NS)):
                assert (cls, RDF.type, OWL.Class) in vocab, cls


def test_the_kinds_are_a_skos_scheme(vocab: Graph) -> None:
    assert (KIND.scheme, RDF.type, SKOS.ConceptScheme) in vocab
    assert set(vocab.objects(KIND.scheme, SKOS.hasTopConcept)) == set(KINDS.values())
    for name, iri in KINDS.items():
        assert (iri, RDF.type, SKOS.Concept) in vocab, name
        assert vocab.value(iri, SKOS.prefLabel) == Literal(name, lang="en")
        assert len(str(vocab.value(iri, SKOS.definition) or "")) > 10, name
        assert (iri, SKOS.inScheme, KIND.scheme) in vocab, name
        assert (iri, SKOS.topConceptOf, KIND.scheme) in vocab, name
    assert set(vocab.subjects(RDF.type, SKOS.Concept)) == set(KINDS.values())


def test_the_shapes_list_exactly_the_kinds() -> None:
    """Every sh:in list that names a kind names all of them (contribution, value-rule, claim)."""
    lists = 0
    for path in sorted((REPO / "shapes").glob("*.ttl")):
        shapes = Graph().parse(path, format="turtle")
        for head in shapes.objects(None, SH["in"]):
            members = list(Collection(shapes, head))
            if any(str(m).startswith(str(KIND._NS)) for m in members):
                lists += 1
                assert sorted(map(str, members)) == sorted(map(str, KINDS.values())), path.name
    assert lists >= 3


def test_the_shapes_and_valid_examples_use_only_defined_terms() -> None:
    known = set(CBPP_TERMS.values()) | set(KIND_TERMS.values())
    paths = [*(REPO / "shapes").glob("*.ttl"), *(REPO / "shapes" / "examples").glob("*/valid-*.ttl")]
    for path in paths:
        graph = Graph().parse(path, format="turtle")
        unknown = (mentioned(graph, CBPP) | mentioned(graph, KIND)) - known
        assert not unknown, (path.name, unknown)


def test_the_docs_list_every_term() -> None:
    page = (REPO / "docs" / "vocabulary.md").read_text(encoding="utf-8")
    for name in CBPP_TERMS:
        assert f"| `cbpp:{name}` |" in page, name
    for name in KINDS:
        assert f"| `kind:{name}` |" in page, name


# JSON-LD context ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def context() -> dict[str, Any]:
    document = json.loads(CONTEXT.read_text(encoding="utf-8"))
    assert set(document) == {"@context"}
    ctx: dict[str, Any] = document["@context"]
    return ctx


def loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader that knows one document, this context; it never goes on the network."""
    if url != CONTEXT_URL:
        raise AssertionError(f"the test tried to load {url}")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(CONTEXT.read_text("utf-8"))}


PREFIXES = {
    "cbpp": CBPP._NS,
    "kind": KIND._NS,
    "vf": VF._NS,
    "org": ORG._NS,
    "foaf": FOAF._NS,
    "vcard": VCARD._NS,
    "as": AS._NS,
    "prov": PROV._NS,
    "dct": DCTERMS._NS,
    "xsd": XSD._NS,
    "om": OM._NS,
    "odrl": ODRL2._NS,
    "opengov": OPENGOV._NS,
    "schema": SCHEMA._NS,
    "time": TIME._NS,
    "rdfs": RDFS._NS,
    "skos": SKOS._NS,
    "ldp": LDP._NS,
    "solid": SOLID._NS,
    "pim": PIM._NS,
}


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_the_context_has_the_prefixes(context: dict[str, Any], prefix: str) -> None:
    assert context[prefix] == str(PREFIXES[prefix])


def test_every_cbpp_term_has_a_short_name(context: dict[str, Any]) -> None:
    """Short names are the local names; ``kind`` is the kinds prefix, so cbpp:kind keeps its prefix."""
    for name in CBPP_TERMS:
        if name == "kind":
            assert context["cbpp:kind"] == {"@type": "@id"}
            continue
        definition = context[name]
        target = definition if isinstance(definition, str) else definition["@id"]
        assert target == f"cbpp:{name}", name
    assert all(
        not isinstance(v, dict) or "@id" not in v or v["@id"].startswith("cbpp:") for v in context.values()
    )


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    expanded: list[dict[str, Any]] = jsonld.expand(document, {"documentLoader": loader})
    return expanded


def test_short_names_expand_to_cbpp_iris_with_their_types() -> None:
    (node,) = expand(
        {
            "@context": CONTEXT_URL,
            "@id": "https://commons.example/governance/rules#r1",
            "@type": "DecisionRule",
            "electorate": "https://commons.example/roles#member",
            "quorum": "0.5",
            "threshold": "0.6667",
            "period": "P7D",
            "weighting": "CreditWeighted",
            "prov:wasGeneratedBy": "https://commons.example/decisions/7#event",
        }
    )
    assert node["@type"] == [str(CBPP.DecisionRule)]
    assert node[str(CBPP.electorate)] == [{"@id": "https://commons.example/roles#member"}]
    assert node[str(CBPP.quorum)] == [{"@value": "0.5", "@type": str(XSD.decimal)}]
    assert node[str(CBPP.threshold)] == [{"@value": "0.6667", "@type": str(XSD.decimal)}]
    assert node[str(CBPP.period)] == [{"@value": "P7D", "@type": str(XSD.duration)}]
    assert node[str(CBPP.weighting)] == [{"@id": str(CBPP.CreditWeighted)}]
    assert node[str(PROV.wasGeneratedBy)] == [{"@id": "https://commons.example/decisions/7#event"}]


def test_a_credit_total_expands_with_decimals_and_datetimes() -> None:
    (report,) = expand(
        {
            "@context": CONTEXT_URL,
            "@id": "https://commons.example/credit/2026-11#report",
            "@type": ["CreditReport", "prov:Entity"],
            "periodStart": "2026-11-01T00:00:00Z",
            "periodEnd": "2026-12-01T00:00:00Z",
            "dct:conformsTo": "https://commons.example/rules/value-1#rule",
        }
    )
    assert report["@type"] == [str(CBPP.CreditReport), str(PROV.Entity)]
    assert report[str(CBPP.periodStart)] == [{"@value": "2026-11-01T00:00:00Z", "@type": str(XSD.dateTime)}]
    assert report[str(DCTERMS.conformsTo)] == [{"@id": "https://commons.example/rules/value-1#rule"}]


def test_the_model_contribution_in_json_ld_is_the_turtle_example() -> None:
    """The model's contribution (docs/community-model.md §6) written with the context gives the same
    triples as shapes/examples/contribution/valid-work.ttl."""
    base = "https://alice.example/contributions/install-guide"
    document = {
        "@context": [CONTEXT_URL, {"@base": base}],
        "@id": "#it",
        "@type": ["vf:EconomicEvent", "Contribution"],
        "vf:action": "vf:work",
        "vf:provider": "https://alice.example/profile/card#me",
        "vf:receiver": "https://commons.example/profile/card#me",
        "vf:resourceClassifiedAs": "kind:documentation",
        "vf:effortQuantity": {"@type": "vf:Measure", "vf:hasNumericalValue": "3.5", "vf:hasUnit": "om:hour"},
        "vf:hasPointInTime": "2026-11-03T16:00:00Z",
        "dct:references": "https://git.example/openmaps/tiles/pull/42",
        "vf:note": "Rewrote the install guide",
        "visibility": "CommunityOnly",
    }
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": loader})
    from_json = Graph().parse(data=nquads, format="nt")
    from_turtle = Graph().parse(REPO / "shapes" / "examples" / "contribution" / "valid-work.ttl")
    assert isomorphic(from_json, from_turtle), nquads


def test_the_docs_json_ld_example_is_a_conforming_decision_rule() -> None:
    (block,) = [b for b in doc_blocks.blocks(REPO / "docs" / "vocabulary.md", "json") if b.tested]
    nquads = jsonld.to_rdf(
        json.loads(block.code), {"format": "application/n-quads", "documentLoader": loader}
    )
    data = Graph().parse(data=nquads, format="nt")
    assert (None, CBPP.quorum, Literal("0.5", datatype=XSD.decimal)) in data
    conforms, _, text = pyshacl.validate(
        data, shacl_graph=Graph().parse(REPO / "shapes" / "decision-rule.ttl"), inference="none"
    )
    assert conforms, text


def test_the_loader_refuses_anything_else() -> None:
    with pytest.raises(jsonld.JsonLdError):
        expand({"@context": "https://example.org/other.jsonld", "@id": "https://a.example/#x"})
