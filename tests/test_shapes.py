"""pod_server/shapes.py: the bundled shape library and validation (contract §1)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from pod_server.errors import NotFound
from pod_server.shapes import BUNDLE, PreparedShapes, ShapeLibrary, Targets, summary
from pod_server.vocab import SH

REPO = Path(__file__).resolve().parents[1]
EX = "http://example.org/ns#"
PARENT = f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <{EX}> .
@prefix child: <{BUNDLE}child#> .
<#ParentShape> a sh:NodeShape ; sh:targetClass ex:Parent ;
  sh:property [ sh:path ex:child ; sh:minCount 1 ; sh:node child:ChildShape ] ."""
CHILD = f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <{EX}> .
@prefix leaf: <{BUNDLE}leaf#> .
<#ChildShape> a sh:NodeShape ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "A child has a name" ] ;
  sh:or ( leaf:LeafShape [ sh:property [ sh:path ex:age ; sh:minCount 1 ] ] ) ."""
LEAF = f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <{EX}> .
<#LeafShape> a sh:NodeShape ; sh:property [ sh:path ex:leaf ; sh:minCount 1 ] ."""


@pytest.fixture
def library(tmp_path: Path) -> ShapeLibrary:
    for name, text in (("parent", PARENT), ("child", CHILD), ("leaf", LEAF), ("Not_A_Name", LEAF)):
        (tmp_path / f"{name}.ttl").write_text(text, encoding="utf-8")
    return ShapeLibrary.bundled(tmp_path, base_url="http://pod.example/")


def data(turtle: str) -> Graph:
    return Graph().parse(
        data=f"@prefix ex: <{EX}> . " + turtle, format="turtle", publicID="http://pod.example/d"
    )


def test_names_and_iris(library: ShapeLibrary) -> None:
    assert library.names() == ["child", "leaf", "parent"]
    assert library.iri("parent") == BUNDLE + "parent"
    assert library.url("parent") == "http://pod.example/.ns/shapes/parent"
    for given in (
        "parent",
        BUNDLE + "parent",
        BUNDLE + "parent#ParentShape",
        "http://pod.example/.ns/shapes/parent",
    ):
        assert library.name_of(given) == "parent", given
    for other in (
        "http://other.example/.ns/shapes/parent",
        "https://w3id.org/pod-server/cbpp",
        "urn:x:parent",
    ):
        assert library.name_of(other) is None, other


def test_unknown_names_are_not_found(library: ShapeLibrary) -> None:
    with pytest.raises(NotFound, match="child, leaf, parent"):
        library.shapes_graph("nothing")
    with pytest.raises(NotFound):
        library.shapes_graph("http://elsewhere.example/shape")


def test_referenced_documents_are_merged_transitively(library: ShapeLibrary) -> None:
    merged = library.shapes_graph(BUNDLE + "parent")
    for name, shape in (("parent", "ParentShape"), ("child", "ChildShape"), ("leaf", "LeafShape")):
        assert (URIRef(f"{BUNDLE}{name}#{shape}"), None, None) in merged
    assert library.shapes_graph("parent") is merged  # cached
    assert (URIRef(BUNDLE + "parent#ParentShape"), None, None) not in library.shapes_graph("child")


def test_validation_follows_the_references(library: ShapeLibrary) -> None:
    ok = library.validate(data('<#p> a ex:Parent ; ex:child [ ex:name "c" ; ex:leaf 1 ] .'), "parent")
    assert (ok.conforms, ok.focus_count) == (True, 1)
    bad = library.validate(
        data(
            "<#p> a ex:Parent ; ex:child [ ex:leaf 1 ] .",
        ),
        "parent",
    )
    assert not bad.conforms
    assert (None, SH.conforms, Literal(False)) in bad.report
    assert "Validation Report" in bad.text
    assert "ChildShape" in summary(bad.report)
    assert "A child has a name" in bad.text


def test_focus_count_counts_the_nodes_of_the_document_asked_for(library: ShapeLibrary) -> None:
    none = library.validate(data("<#x> ex:p 1 ."), "parent")
    assert (none.conforms, none.focus_count) == (True, 0)
    two = library.validate(
        data(
            '<#a> a ex:Parent ; ex:child [ ex:name "x" ; ex:age 3 ] .'
            '<#b> a ex:Parent ; ex:child <#a> . <#a> ex:name "a" ; ex:age 1 .'
        ),
        "parent",
    )
    assert two.focus_count == 2


def test_targets(tmp_path: Path) -> None:
    shapes = Graph().parse(
        data=f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix ex: <{EX}> .
ex:A a sh:NodeShape ; sh:targetClass ex:Thing .
ex:Implicit a sh:NodeShape, rdfs:Class .
ex:B a sh:NodeShape ; sh:targetNode ex:n ; sh:targetSubjectsOf ex:s ; sh:targetObjectsOf ex:o .""",
        format="turtle",
    )
    targets = Targets.of(shapes)
    d = data(
        "<#1> a ex:Thing . <#2> a ex:Implicit . ex:n ex:p 1 . <#3> ex:s 1 . <#4> ex:o <#5> ."
        " <#6> a ex:Other ."
    )
    assert {str(n).rsplit("/", 1)[-1] for n in targets.focus(d)} == {"d#1", "d#2", "ns#n", "d#3", "d#5"}
    assert "a <http://example.org/ns#Thing>" in targets.describe()


def test_the_source_keeps_the_published_iris(library: ShapeLibrary) -> None:
    source = library.source("leaf")
    served_at = "http://pod.example/.ns/shapes/leaf"
    g = Graph().parse(data=source, format="turtle", publicID=served_at)
    assert (URIRef(BUNDLE + "leaf#LeafShape"), None, None) in g


def test_prepared_shapes_are_safe_to_share_between_threads(library: ShapeLibrary) -> None:
    prepared = library.prepared("parent")
    assert isinstance(prepared, PreparedShapes)
    good = data('<#p> a ex:Parent ; ex:child [ ex:name "c" ; ex:leaf 1 ] .')
    bad = data("<#p> a ex:Parent .")
    outcomes: list[bool] = []

    def run(graph: Graph, expected: bool) -> None:
        for _ in range(20):
            outcomes.append(prepared.validate(graph).conforms == expected)

    threads = [threading.Thread(target=run, args=(g, e)) for g, e in ((good, True), (bad, False)) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == [True] * 120


def test_the_data_graph_is_not_modified(library: ShapeLibrary) -> None:
    d = data('<#p> a ex:Parent ; ex:child [ ex:name "c" ; ex:leaf 1 ] .')
    before = set(d)
    library.validate(d, "parent")
    assert set(d) == before


# -- the real bundled shapes (shapes/, written with the communities issue) -------------------------
BUNDLED = ShapeLibrary.bundled()
EXAMPLES = sorted((REPO / "shapes" / "examples").glob("*/*.ttl"))


def test_the_bundle_is_the_repository_folder() -> None:
    assert BUNDLED.folder == REPO / "shapes"
    assert "contribution" in BUNDLED.names()


def test_contribution_merges_measure() -> None:
    merged = BUNDLED.shapes_graph("https://w3id.org/pod-server/shapes/contribution")
    assert (URIRef(BUNDLE + "measure#MeasureShape"), None, None) in merged


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_bundled_examples(example: Path) -> None:
    name = example.parent.name
    if name not in BUNDLED.names():
        pytest.skip(f"shapes/{name}.ttl is not written yet")
    graph = Graph().parse(example, format="turtle", publicID=f"https://alice.example/{name}/example")
    validation = BUNDLED.validate(graph, name)
    assert validation.focus_count >= 1
    assert validation.conforms == example.stem.startswith("valid"), validation.text
