"""Shape-constrained containers over HTTP (LDP §4.2.1.6, docs/shapes.md, contract §2).

A container whose description says ``<./> ldp:constrainedBy <shape>`` takes only RDF documents
that conform to the shape and have a node it targets; anything else is a 422 and nothing is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from pod_server.vocab import LDP, SH
from tests.conftest import LiveServer
from tests.http.helpers import TURTLE, graph, links

REPO = Path(__file__).resolve().parents[2]
CONTRIBUTION_SHAPE = "https://w3id.org/pod-server/shapes/contribution"
CONSTRAINED_BY = str(LDP.constrainedBy)
N3 = {"Content-Type": "text/n3"}
EX = "http://example.org/ns#"

CONTRIBUTION = b"""@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix cbpp: <https://w3id.org/pod-server/cbpp#> .
@prefix kind: <https://w3id.org/pod-server/kinds#> .
@prefix om: <http://www.ontology-of-units-of-measure.org/resource/om-2/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#it> a vf:EconomicEvent, cbpp:Contribution ; vf:action vf:work ;
  vf:provider <https://alice.example/profile/card#me> ;
  vf:receiver <https://commons.example/profile/card#me> ;
  vf:resourceClassifiedAs kind:documentation ;
  vf:effortQuantity [ a vf:Measure ; vf:hasNumericalValue 3.5 ; vf:hasUnit om:hour ] ;
  vf:hasPointInTime "2026-11-03T16:00:00Z"^^xsd:dateTimeStamp ;
  vf:note "Rewrote the install guide" ; cbpp:visibility cbpp:CommunityOnly .
"""
NOT_CONFORMING = CONTRIBUTION.replace(b"vf:action vf:work", b"vf:action vf:transfer")

# A shape of our own, stored on the server: every ex:Note has exactly one ex:text.
NOTE_SHAPE = f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <{EX}> .
<#NoteShape> a sh:NodeShape ; sh:targetClass ex:Note ;
  sh:property [ sh:path ex:text ; sh:minCount 1 ; sh:maxCount 1 ;
                sh:message "A note has exactly one ex:text" ] .
""".encode()
TITLE_SHAPE = f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <{EX}> .
<#NoteShape> a sh:NodeShape ; sh:targetClass ex:Note ;
  sh:property [ sh:path ex:title ; sh:minCount 1 ; sh:message "A note has an ex:title" ] .
""".encode()
NOTE = f'<#n> a <{EX}Note> ; <{EX}text> "hello" .'.encode()
TITLED_NOTE = f'<#n> a <{EX}Note> ; <{EX}title> "hi" .'.encode()


def _constrain(live: LiveServer, container: str, *shapes: str) -> None:
    # The description resource's base is {container}.meta, so the container is <./>.
    objects = ", ".join(f"<{s}>" for s in shapes)
    body = f"<./> <{CONSTRAINED_BY}> {objects} .".encode() if shapes else b""
    r = live.http.put(container + ".meta", data=body, headers=TURTLE)
    assert r.status_code in {201, 204}, r.text


def _container(live: LiveServer, *shapes: str) -> str:
    url = live.fresh("shaped")
    assert live.http.put(url, data=b"", headers=TURTLE).status_code == 201
    if shapes:
        _constrain(live, url, *shapes)
    return url


def _children(live: LiveServer, container: str) -> set[str]:
    g = graph(live.http.get(container, headers={"Accept": "text/turtle"}))
    return {str(o) for o in g.objects(URIRef(container), LDP.contains)}


def _report(response: object) -> Graph:
    import requests

    assert isinstance(response, requests.Response)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith("text/turtle")
    assert links(response)[CONSTRAINED_BY] == {CONTRIBUTION_SHAPE}
    return graph(response)


def _messages(report: Graph) -> list[str]:
    assert (None, SH.conforms, Literal(False)) in report
    return [str(m) for m in report.objects(None, SH.resultMessage)]


@pytest.fixture(scope="module")
def contributions(live: LiveServer) -> str:
    return _container(live, CONTRIBUTION_SHAPE)


# -- what a constrained container takes ----------------------------------------------------------
def test_a_conforming_put_and_post_are_stored(live: LiveServer, contributions: str) -> None:
    r = live.http.put(contributions + "guide", data=CONTRIBUTION, headers=TURTLE)
    assert r.status_code == 201, r.text
    r = live.http.post(contributions, data=CONTRIBUTION, headers={**TURTLE, "Slug": "posted"})
    assert r.status_code == 201, r.text
    assert {contributions + "guide", r.headers["Location"]} <= _children(live, contributions)


def test_a_conforming_jsonld_body_is_stored(live: LiveServer, contributions: str) -> None:
    as_jsonld = live.http.get(contributions + "guide", headers={"Accept": "application/ld+json"})
    if as_jsonld.status_code == 404:
        live.http.put(contributions + "guide", data=CONTRIBUTION, headers=TURTLE)
        as_jsonld = live.http.get(contributions + "guide", headers={"Accept": "application/ld+json"})
    body = as_jsonld.content.replace(b"/guide", b"/guide-jsonld")
    r = live.http.put(
        contributions + "guide-jsonld", data=body, headers={"Content-Type": "application/ld+json"}
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "example", sorted((REPO / "shapes/examples/contribution").glob("*.ttl")), ids=lambda p: p.stem
)
def test_the_bundled_contribution_examples(live: LiveServer, contributions: str, example: Path) -> None:
    """Against the real shapes/contribution.ttl: valid-* are stored, invalid-* refused with a report."""
    url = contributions + "example-" + example.stem
    r = live.http.put(url, data=example.read_bytes(), headers=TURTLE)
    if example.stem.startswith("valid"):
        assert r.status_code == 201, r.text
    else:
        assert _messages(_report(r)), r.text
        assert live.http.get(url).status_code == 404


# -- what it refuses, storing nothing ------------------------------------------------------------
def test_a_non_conforming_put_is_422_with_the_report(live: LiveServer, contributions: str) -> None:
    url = contributions + "transfer"
    report = _report(live.http.put(url, data=NOT_CONFORMING, headers=TURTLE))
    assert any("vf:action" in m for m in _messages(report))
    assert (None, SH.focusNode, URIRef(url + "#it")) in report
    assert live.http.get(url).status_code == 404


def test_a_non_conforming_put_leaves_the_existing_document_alone(
    live: LiveServer, contributions: str
) -> None:
    url = contributions + "kept"
    assert live.http.put(url, data=CONTRIBUTION, headers=TURTLE).status_code == 201
    before = live.http.get(url)
    _report(live.http.put(url, data=NOT_CONFORMING, headers=TURTLE))
    after = live.http.get(url)
    assert (after.content, after.headers["ETag"]) == (before.content, before.headers["ETag"])


def test_a_non_conforming_post_is_422_and_creates_nothing(live: LiveServer, contributions: str) -> None:
    before = _children(live, contributions)
    _report(live.http.post(contributions, data=NOT_CONFORMING, headers={**TURTLE, "Slug": "nope"}))
    assert _children(live, contributions) == before


def test_a_patch_that_breaks_the_shape_is_422_and_changes_nothing(
    live: LiveServer, contributions: str
) -> None:
    url = contributions + "patched"
    assert live.http.put(url, data=CONTRIBUTION, headers=TURTLE).status_code == 201
    before = live.http.get(url).content
    patch = """@prefix solid: <http://www.w3.org/ns/solid/terms#>.
@prefix vf: <https://w3id.org/valueflows/ont/vf#>.
_:p a solid:InsertDeletePatch; solid:inserts { <#it> vf:receiver <https://other.example/profile/card#me> }."""
    report = _report(live.http.patch(url, data=patch.encode(), headers=N3))
    assert any("vf:receiver" in m for m in _messages(report))
    assert live.http.get(url).content == before
    fine = """@prefix solid: <http://www.w3.org/ns/solid/terms#>.
@prefix vf: <https://w3id.org/valueflows/ont/vf#>.
_:p a solid:InsertDeletePatch; solid:where { <#it> vf:note ?n }; solid:deletes { <#it> vf:note ?n };
  solid:inserts { <#it> vf:note "Rewrote it again" }."""
    assert live.http.patch(url, data=fine.encode(), headers=N3).status_code == 204


def test_a_patch_creating_a_document_is_validated(live: LiveServer, contributions: str) -> None:
    url = contributions + "from-nothing"
    patch = b"""@prefix solid: <http://www.w3.org/ns/solid/terms#>.
_:p a solid:InsertDeletePatch; solid:inserts { <#it> a <https://w3id.org/pod-server/cbpp#Contribution> }."""
    _report(live.http.patch(url, data=patch, headers=N3))
    assert live.http.get(url).status_code == 404


def test_a_body_with_nothing_the_shape_targets_is_refused(live: LiveServer, contributions: str) -> None:
    url = contributions + "untargeted"
    r = live.http.put(
        url, data=f'<#x> <{EX}p> "an RDF document about nothing in particular" .'.encode(), headers=TURTLE
    )
    assert r.status_code == 422
    assert r.headers["Content-Type"] == "application/problem+json"
    assert "cbpp#Contribution" in r.json()["detail"]
    assert links(r)[CONSTRAINED_BY] == {CONTRIBUTION_SHAPE}
    assert live.http.get(url).status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix", "headers", "body"),
    [
        ("PUT", "notes.txt", {"Content-Type": "text/plain"}, b"not RDF"),
        ("POST", "", {"Content-Type": "image/png", "Slug": "picture"}, b"\x89PNG"),
        ("PUT", "sub/", TURTLE, b""),
        ("POST", "", {**TURTLE, "Slug": "sub", "Link": f'<{LDP.BasicContainer}>; rel="type"'}, b""),
        ("PUT", "deeper/doc", TURTLE, CONTRIBUTION),  # would create the intermediate container deeper/
    ],
    ids=["non-RDF PUT", "non-RDF POST", "container PUT", "container POST", "intermediate container"],
)
def test_non_rdf_and_containers_are_refused(
    live: LiveServer, contributions: str, method: str, suffix: str, headers: dict[str, str], body: bytes
) -> None:
    before = _children(live, contributions)
    r = live.http.request(method, contributions + suffix, data=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    assert CONTRIBUTION_SHAPE in r.json()["detail"]
    assert _children(live, contributions) == before


def test_the_report_is_jsonld_when_asked(live: LiveServer, contributions: str) -> None:
    r = live.http.put(
        contributions + "as-jsonld",
        data=NOT_CONFORMING,
        headers={**TURTLE, "Accept": "application/ld+json, text/turtle;q=0.5"},
    )
    assert r.status_code == 422
    assert r.headers["Content-Type"].startswith("application/ld+json")
    json.loads(r.content)
    report = Graph().parse(data=r.content, format="json-ld", publicID=r.url)
    assert (None, SH.conforms, Literal(False)) in report


def test_auxiliary_resources_of_children_are_not_validated(live: LiveServer, contributions: str) -> None:
    url = contributions + "with-aux"
    assert live.http.put(url, data=CONTRIBUTION, headers=TURTLE).status_code == 201
    assert (
        live.http.put(url + ".meta", data=f"<with-aux> <{EX}p> 1 .".encode(), headers=TURTLE).status_code
        == 201
    )
    acl = b"""@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#all> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <with-aux>;
  acl:mode acl:Read, acl:Write, acl:Control."""
    assert live.http.put(url + ".acl", data=acl, headers=TURTLE).status_code == 201


# -- discovery -----------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_the_container_names_its_shape(live: LiveServer, contributions: str, method: str) -> None:
    r = live.http.request(method, contributions)
    assert r.status_code in {200, 204}
    assert links(r)[CONSTRAINED_BY] == {CONTRIBUTION_SHAPE}


def test_unconstrained_containers_are_unaffected(live: LiveServer) -> None:
    plain = _container(live)
    assert CONSTRAINED_BY not in links(live.http.get(plain))
    assert (
        live.http.put(
            plain + "notes.txt", data=b"anything", headers={"Content-Type": "text/plain"}
        ).status_code
        == 201
    )
    assert live.http.put(plain + "sub/", data=b"", headers=TURTLE).status_code == 201
    assert live.http.put(plain + "bad", data=NOT_CONFORMING, headers=TURTLE).status_code == 201
    # A description without ldp:constrainedBy constrains nothing.
    assert (
        live.http.put(
            plain + ".meta", data=f'<./> <{EX}title> "plain" .'.encode(), headers=TURTLE
        ).status_code
        == 201
    )
    assert (
        live.http.put(plain + "other.txt", data=b"x", headers={"Content-Type": "text/plain"}).status_code
        == 201
    )


# -- where shapes come from ----------------------------------------------------------------------
def test_a_shape_stored_on_this_server(live: LiveServer) -> None:
    shapes = _container(live)
    assert live.http.put(shapes + "note", data=NOTE_SHAPE, headers=TURTLE).status_code == 201
    notes = _container(live, shapes + "note")
    assert links(live.http.get(notes))[CONSTRAINED_BY] == {shapes + "note"}
    assert live.http.put(notes + "a", data=NOTE, headers=TURTLE).status_code == 201
    r = live.http.put(notes + "b", data=f"<#n> a <{EX}Note> .".encode(), headers=TURTLE)
    assert r.status_code == 422
    assert links(r)[CONSTRAINED_BY] == {shapes + "note"}
    assert "A note has exactly one ex:text" in _messages(graph(r))


def test_the_served_url_of_a_bundled_shape_is_the_bundled_shape(live: LiveServer) -> None:
    served = live.url + ".ns/shapes/contribution"
    c = _container(live, served)
    assert live.http.put(c + "ok", data=CONTRIBUTION, headers=TURTLE).status_code == 201
    r = live.http.put(c + "no", data=NOT_CONFORMING, headers=TURTLE)
    assert r.status_code == 422
    assert links(r)[CONSTRAINED_BY] == {served}


@pytest.mark.parametrize(
    ("shape", "why"),
    [
        ("{base}missing-shape-{uuid}", "does not exist"),
        ("{base}{uuid}/shape.txt", "not an RDF document"),
        ("https://w3id.org/pod-server/shapes/no-such-shape", "no bundled shape"),
        ("http://127.0.0.1:9/shape", "127.0.0.1"),  # another server, refused by the safe fetcher
    ],
    ids=["missing", "not RDF", "unknown bundled", "unreachable"],
)
def test_an_unusable_shape_is_a_422_naming_it(live: LiveServer, shape: str, why: str) -> None:
    folder = live.fresh("x")
    if "shape.txt" in shape:
        r = live.http.put(folder + "shape.txt", data=b"hello", headers={"Content-Type": "text/plain"})
        assert r.status_code == 201
    url = shape.format(base=live.url, uuid=folder.rstrip("/").rsplit("/", 1)[-1])
    c = _container(live, url)
    r = live.http.put(c + "doc", data=NOTE, headers=TURTLE)
    assert r.status_code == 422, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    detail = r.json()["detail"]
    assert url in detail and why in detail, detail
    assert live.http.get(c + "doc").status_code == 404


def test_a_changed_description_applies_at_once(live: LiveServer) -> None:
    shapes = _container(live)
    for name, body in (("text", NOTE_SHAPE), ("title", TITLE_SHAPE)):
        assert live.http.put(shapes + name, data=body, headers=TURTLE).status_code == 201
    notes = _container(live, shapes + "text")
    assert live.http.put(notes + "1", data=NOTE, headers=TURTLE).status_code == 201
    assert live.http.put(notes + "2", data=TITLED_NOTE, headers=TURTLE).status_code == 422
    # Swap the shape with an N3 Patch of the description, as docs/shapes.md shows.
    patch = f"""@prefix solid: <http://www.w3.org/ns/solid/terms#>. @prefix ldp: <http://www.w3.org/ns/ldp#>.
_:p a solid:InsertDeletePatch; solid:deletes {{ <./> ldp:constrainedBy <{shapes}text> }};
  solid:inserts {{ <./> ldp:constrainedBy <{shapes}title> }}."""
    assert live.http.patch(notes + ".meta", data=patch.encode(), headers=N3).status_code == 204
    assert links(live.http.get(notes))[CONSTRAINED_BY] == {shapes + "title"}
    assert live.http.put(notes + "2", data=TITLED_NOTE, headers=TURTLE).status_code == 201
    assert live.http.put(notes + "3", data=NOTE, headers=TURTLE).status_code == 422
    # A changed shape document applies at once too (cached by its ETag).
    assert live.http.put(shapes + "title", data=NOTE_SHAPE, headers=TURTLE).status_code == 204
    assert live.http.put(notes + "3", data=NOTE, headers=TURTLE).status_code == 201
    # Without the constraint, anything goes.
    assert live.http.delete(notes + ".meta").status_code == 204
    assert CONSTRAINED_BY not in links(live.http.get(notes))
    assert live.http.put(notes + "4", data=b"text", headers={"Content-Type": "text/plain"}).status_code == 201


def test_two_shapes_must_both_hold(live: LiveServer) -> None:
    shapes = _container(live)
    for name, body in (("text", NOTE_SHAPE), ("title", TITLE_SHAPE)):
        assert live.http.put(shapes + name, data=body, headers=TURTLE).status_code == 201
    notes = _container(live, shapes + "text", shapes + "title")
    assert links(live.http.get(notes))[CONSTRAINED_BY] == {shapes + "text", shapes + "title"}
    assert live.http.put(notes + "1", data=NOTE, headers=TURTLE).status_code == 422
    both = f'<#n> a <{EX}Note> ; <{EX}text> "x" ; <{EX}title> "y" .'.encode()
    assert live.http.put(notes + "1", data=both, headers=TURTLE).status_code == 201
