"""The bundled SHACL shapes (shapes/*.ttl) judge their example data as the examples say: every
``shapes/examples/{name}/valid-*.ttl`` conforms, every ``invalid-*.ttl`` does not and says why in
plain words (a non-empty ``sh:resultMessage``). Shape documents may refer to shapes of other bundled
documents with ``sh:node``; like ``pod_server.shapes.ShapeLibrary``, the small loader here merges them
(docs/community-model.md §1). Also: what pod-server writes for a new pod (its profile) and a
new community (its profile and decision rules) conforms, and the Python example in
docs/vocabulary.md runs."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL
from rdflib.term import Node

from pod_server.accounts.pods import PodLayout, pod_documents
from pod_server.community import layout
from pod_server.community.model import Community
from pod_server.vocab import OPENGOV, PIM, RDF, SH
from tests import doc_blocks

REPO = Path(__file__).resolve().parents[2]
SHAPES = REPO / "shapes"
EXAMPLES = SHAPES / "examples"
BUNDLE = "https://w3id.org/pod-server/shapes/"
NAMES = [
    "person-profile",
    "community",
    "membership",
    "member-group",
    "contribution",
    "measure",
    "acknowledgement",
    "claim",
    "settlement",
    "value-rule",
    "decision-rule",
    "motion",
    "vote",
]
"""The 13 shape documents of the model (docs/community-model.md §1)."""


def shape_iri(name: str) -> URIRef:
    """``https://w3id.org/pod-server/shapes/{name}#{Name}Shape``, e.g. value-rule → ValueRuleShape."""
    camel = "".join(part.capitalize() for part in name.split("-"))
    return URIRef(f"{BUNDLE}{name}#{camel}Shape")


def referenced_documents(graph: Graph) -> set[str]:
    """Names of the bundled documents whose shapes ``graph`` mentions (``.../shapes/{name}#...``)."""
    found = set()
    for term in graph.all_nodes():
        if isinstance(term, URIRef) and term.startswith(BUNDLE) and "#" in term:
            found.add(str(term)[len(BUNDLE) :].split("#", 1)[0])
    return found


def shapes_graph(name: str) -> Graph:
    """shapes/{name}.ttl merged with every bundled document it refers to, transitively."""
    merged = Graph()
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        document = Graph().parse(SHAPES / f"{current}.ttl", format="turtle")
        merged += document
        todo.extend(referenced_documents(document) - seen)
    return merged


def validate(data: Graph, name: str) -> tuple[bool, Graph, str]:
    conforms, report, text = pyshacl.validate(
        data, shacl_graph=shapes_graph(name), inference="none", advanced=True
    )
    assert isinstance(report, Graph)
    return bool(conforms), report, str(text)


def targeted(data: Graph, name: str) -> set[Node]:
    """The focus nodes of the document's main shape in ``data`` (sh:targetClass, sh:targetSubjectsOf)."""
    shapes = Graph().parse(SHAPES / f"{name}.ttl", format="turtle")
    shape = shape_iri(name)
    nodes: set[Node] = set()
    for cls in shapes.objects(shape, SH.targetClass):
        nodes.update(data.subjects(RDF.type, cls))
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        nodes.update(data.subjects(predicate, None))
    return nodes


def messages(report: Graph) -> set[str]:
    return {str(m) for m in report.objects(None, SH.resultMessage)}


def examples(prefix: str) -> list[Path]:
    return sorted(EXAMPLES.glob(f"*/{prefix}-*.ttl"))


def example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def load(path: Path) -> Graph:
    return Graph().parse(path, format="turtle")


@pytest.mark.parametrize("path", examples("valid"), ids=example_id)
def test_a_valid_example_conforms(path: Path) -> None:
    data = load(path)
    conforms, _, text = validate(data, path.parent.name)
    assert conforms, text
    assert targeted(data, path.parent.name), "the example must contain a node the main shape targets"


@pytest.mark.parametrize("path", examples("invalid"), ids=example_id)
def test_an_invalid_example_fails_and_says_why(path: Path) -> None:
    """Line 1 ``# why: ...`` tells readers what is wrong; line 2 ``# says: ...`` is part of the
    message the validator must give, so an example cannot pass by failing for another reason."""
    why, says = path.read_text(encoding="utf-8").splitlines()[:2]
    assert why.startswith("# why: ") and len(why) > len("# why: ") + 10, "line 1: # why: ..."
    assert says.startswith("# says: "), "line 2: # says: <part of the expected sh:resultMessage>"
    data = load(path)
    assert targeted(data, path.parent.name), "the example must contain a node the main shape targets"
    conforms, report, text = validate(data, path.parent.name)
    assert not conforms
    said = messages(report)
    assert said and all(m.strip() for m in said), text
    assert any(says.removeprefix("# says: ") in m for m in said), said


def test_every_shape_document_has_examples_and_nothing_else_does() -> None:
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) == sorted(NAMES)
    assert sorted(p.stem for p in SHAPES.glob("*.ttl")) == sorted(NAMES)
    for name in NAMES:
        assert len(list((EXAMPLES / name).glob("valid-*.ttl"))) >= 1, name
        assert len(list((EXAMPLES / name).glob("invalid-*.ttl"))) >= 2, name
        assert {p.name.split("-", 1)[0] for p in (EXAMPLES / name).iterdir()} <= {"valid", "invalid"}


@pytest.mark.parametrize("name", NAMES)
def test_a_shape_document_is_well_formed(name: str) -> None:
    graph = Graph().parse(SHAPES / f"{name}.ttl", format="turtle")
    assert (URIRef(BUNDLE + name), RDF.type, OWL.Ontology) in graph
    assert (shape_iri(name), RDF.type, SH.NodeShape) in graph
    # every shape of the document lives under the document's IRI
    for shape in graph.subjects(RDF.type, SH.NodeShape):
        assert isinstance(shape, URIRef) and shape.startswith(f"{BUNDLE}{name}#"), shape
    # every document it refers to exists
    for other in referenced_documents(graph):
        assert (SHAPES / f"{other}.ttl").is_file(), other
    # every property shape has a name and a plain message
    for shape in set(graph.subjects(SH.path, None)):
        assert isinstance(graph.value(shape, SH.name), Literal), (name, shape)
        message = graph.value(shape, SH.message)
        assert isinstance(message, Literal) and len(str(message)) > 10, (name, shape)
    # the merged shapes graph is itself valid SHACL (pyshacl checks it against SHACL-SHACL)
    conforms, _, text = pyshacl.validate(
        Graph(), shacl_graph=shapes_graph(name), inference="none", advanced=True, meta_shacl=True
    )
    assert conforms, text


def test_an_invalid_document_fails_only_where_it_is_wrong() -> None:
    """The loader's merging matters: without measure.ttl a contribution's negative effort passes."""
    data = load(EXAMPLES / "contribution" / "invalid-negative-effort.ttl")
    alone = Graph().parse(SHAPES / "contribution.ttl", format="turtle")
    conforms, _, _ = pyshacl.validate(data, shacl_graph=alone, inference="none", advanced=True)
    assert conforms
    assert not validate(data, "contribution")[0]


def test_a_motion_checks_the_rule_it_would_adopt() -> None:
    assert referenced_documents(Graph().parse(SHAPES / "motion.ttl")) >= {"value-rule", "decision-rule"}
    data = load(EXAMPLES / "motion" / "invalid-rule-quorum-above-one.ttl")
    conforms, report, _ = validate(data, "motion")
    assert not conforms
    assert any("quorum" in m for m in messages(report))
    # the vote event is checked from the motion, so a decision record's vote event is not targeted
    assert not targeted(data, "motion") & set(data.subjects(RDF.type, OPENGOV.VoteEvent))


def test_a_profile_pod_server_creates_conforms() -> None:
    layout = PodLayout("https://alice.example/")
    (card,) = [d for d in pod_documents(layout, "https://idp.example/") if d.relative == "profile/card"]
    data = Graph().parse(data=card.turtle, format="turtle", publicID=layout.card)
    conforms, _, text = validate(data, "person-profile")
    assert conforms, text
    assert targeted(data, "person-profile") == {URIRef(layout.webid)}


def test_a_profile_without_storage_does_not_conform() -> None:
    layout = PodLayout("https://alice.example/")
    (card,) = [d for d in pod_documents(layout, "https://idp.example/") if d.relative == "profile/card"]
    data = Graph().parse(data=card.turtle, format="turtle", publicID=layout.card)
    data.remove((None, PIM.storage, None))
    assert not validate(data, "person-profile")[0]


@pytest.mark.parametrize(
    ("relative", "name"), [("profile/card", "community"), ("governance/rules", "decision-rule")]
)
def test_what_pod_server_writes_for_a_new_community_conforms(relative: str, name: str) -> None:
    community = Community(
        "/commons/", "https://pods.example/commons/", "https://pods.example/commons/profile/card#me"
    )
    founding = layout.Founding("commons", "OpenMaps Commons", "https://pods.example/alice/profile/card#me")
    written = layout.documents(community, founding, "https://pods.example/", datetime.now(UTC))
    (document,) = [d for d in written if d.relative == relative]
    data = Graph().parse(data=document.turtle, format="turtle", publicID=community.at(relative))
    conforms, _, text = validate(data, name)
    assert conforms, text
    assert targeted(data, name)


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


DOC_BLOCKS = [b for b in doc_blocks.blocks(REPO / "docs" / "vocabulary.md", "python") if b.tested]


@pytest.mark.parametrize("block", DOC_BLOCKS, ids=lambda b: b.where)
def test_the_docs_python_example_runs(block: doc_blocks.Block) -> None:
    out = io.StringIO()
    with working_directory(REPO), contextlib.redirect_stdout(out):
        exec(compile(block.code, block.where, "exec"), {"__name__": "docs_example"})
    printed = out.getvalue().split()
    assert printed and printed[0] == "True", out.getvalue()


def test_the_docs_have_a_tested_python_example() -> None:
    assert DOC_BLOCKS
