"""The ledger (model §5 acknowledge, §6): checked bodies, entries that conform, and the endpoint
on a live server — a refused acknowledgement leaves the ledger as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pod_client.digest import content_digest as client_digest
from rdflib import Graph, Literal, URIRef

from pod_server.community.ledger import (
    Acknowledging,
    Contribution,
    Entry,
    current,
    entries,
    entry_graph,
    superseded,
)
from pod_server.community.model import Community
from pod_server.community.service import CommunityService
from pod_server.errors import BadRequest
from pod_server.shapes import ShapeLibrary
from pod_server.vocab import AS, CBPP, PROV, RDF, VF, XSD
from tests.access.helpers import Agent
from tests.community.governance_world import (
    Someone,
    World,
    body_of,
    contribution,
    found,
    join,
    listing,
    write_private,
)
from tests.conftest import LiveServer

C = Community.of("/commons/", "https://pods.example/commons/")
WORK = "https://alice.example/work/guide#it"
DIGEST = "sha256-" + "A" * 43 + "="


# -- bodies ----------------------------------------------------------------------------------
def test_a_minimal_body() -> None:
    assert Acknowledging.from_json(C, {"contribution": WORK, "digest": DIGEST}) == Acknowledging(WORK, DIGEST)


@pytest.mark.parametrize(
    "body,field",
    [
        ([], "JSON object"),
        ({"digest": DIGEST}, "contribution"),
        ({"contribution": "urn:x:1", "digest": DIGEST}, "contribution"),
        ({"contribution": "/work/guide#it", "digest": DIGEST}, "contribution"),
        ({"contribution": WORK}, "digest"),
        ({"contribution": WORK, "digest": "sha256-abc"}, "digest"),
        ({"contribution": WORK, "digest": "sha512-" + "A" * 43 + "="}, "digest"),
        ({"contribution": WORK, "digest": DIGEST, "verdict": "maybe"}, "verdict"),
        ({"contribution": WORK, "digest": DIGEST, "note": "x" * 2001}, "note"),
        ({"contribution": WORK, "digest": DIGEST, "note": 5}, "note"),
        ({"contribution": WORK, "digest": DIGEST, "corrects": C.at("proposals/x#motion")}, "corrects"),
        ({"contribution": WORK, "digest": DIGEST, "corrects": C.at("ledger/x")}, "corrects"),
        ({"contribution": WORK, "digest": DIGEST, "corrects": C.at("ledger/a/b#entry")}, "corrects"),
        ({"contribution": WORK, "digest": DIGEST, "reviewer": "me"}, "reviewer"),
    ],
)
def test_bad_bodies_are_400(body: Any, field: str) -> None:
    with pytest.raises(BadRequest, match=field):
        Acknowledging.from_json(C, body)


# -- entries -----------------------------------------------------------------------------------
NOW = Literal("2026-11-05T09:00:00Z", datatype=XSD.dateTime)


@pytest.mark.parametrize("verdict", ["accept", "reject"])
def test_entries_conform_to_the_acknowledgement_shape(verdict: str) -> None:
    ack = Acknowledging(WORK, DIGEST, verdict, C.at("ledger/old#entry"), "well done")
    graph = entry_graph(
        C,
        C.at("ledger/new"),
        ack,
        Contribution(WORK, "https://alice.example/#me", DIGEST),
        "https://bob.example/#me",
        NOW,
    )
    validation = ShapeLibrary.bundled().validate(graph, "acknowledgement")
    assert validation.conforms, validation.text
    entry = URIRef(C.at("ledger/new#entry"))
    assert (entry, RDF.type, AS.Accept if verdict == "accept" else AS.Reject) in graph
    assert (entry, VF.corrects, URIRef(C.at("ledger/old#entry"))) in graph


def _entry(name: str, contribution: str, published: str, corrects: str | None = None) -> Entry:
    return Entry(
        C.at(f"ledger/{name}#entry"), contribution, "w", "r", DIGEST, "accept", published, corrects, None
    )


def test_superseded_and_current() -> None:
    first = _entry("a", WORK, "2026-11-01T00:00:00Z")
    other = _entry("b", "https://x.example/c#it", "2026-11-02T00:00:00Z")
    fix = _entry("c", WORK, "2026-11-03T00:00:00Z", corrects=first.iri)
    assert superseded([first, other, fix]) == {first.iri: fix.iri}
    assert current([first, other, fix]) == {WORK: fix, other.contribution: other}


# -- the endpoint ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(provider: LiveServer) -> Iterator[World]:
    made = found(provider)
    join(made, "maintainer", "maintainer")
    join(made, "author")
    yield made


def _digest_as_owner(world: World, who: Someone, iri: str) -> str:
    document = iri.split("#")[0]
    return client_digest(body_of_owner(who, document), document)


def body_of_owner(who: Someone, url: str) -> bytes:
    answer = who.agent.get(url, headers={"Accept": "text/turtle"})
    assert answer.status_code == 200, answer.text
    return answer.content


def _service(world: World) -> CommunityService:
    service: CommunityService = world.server.app.extensions["pod_server.community"].service
    return service


def test_a_maintainer_acknowledges_a_members_contribution(world: World) -> None:
    author, maintainer = world.people["author"], world.people["maintainer"]
    iri, _ = contribution(world, author)
    digest = _digest_as_owner(world, author, iri)
    answer = world.action(
        maintainer, "acknowledge", {"contribution": iri, "digest": digest, "note": "thanks"}
    )
    assert answer.status_code == 201, answer.text
    entry = answer.json()["entry"]
    assert entry.startswith(world.at("ledger/")) and entry.endswith("#entry")
    assert answer.json()["digest"] == digest
    graph = Graph().parse(
        data=body_of(world, entry.split("#")[0]), format="turtle", publicID=entry.split("#")[0]
    )
    node = URIRef(entry)
    assert (node, RDF.type, CBPP.Acknowledgement) in graph and (node, RDF.type, AS.Accept) in graph
    assert (node, AS.actor, URIRef(world.webid)) in graph
    assert (node, AS.object, URIRef(iri)) in graph
    assert (node, CBPP.contributor, URIRef(author.webid)) in graph
    assert (node, PROV.wasAssociatedWith, URIRef(maintainer.webid)) in graph
    assert (node, CBPP.objectDigest, Literal(digest)) in graph
    assert (node, AS.summary, Literal("thanks")) in graph
    # The ledger is public: anyone can read the entry.
    assert Agent().get(entry).status_code == 200


def test_the_public_may_not_acknowledge(world: World) -> None:
    iri, _ = contribution(world, world.people["author"])
    _refused(world, None, {"contribution": iri, "digest": DIGEST}, 401, "log in")


def test_a_correction_supersedes_the_earlier_entry(world: World) -> None:
    author, maintainer = world.people["author"], world.people["maintainer"]
    iri, _ = contribution(world, author)
    digest = _digest_as_owner(world, author, iri)
    first = world.action(maintainer, "acknowledge", {"contribution": iri, "digest": digest}).json()["entry"]
    answer = world.action(
        world.founder,
        "acknowledge",
        {"contribution": iri, "digest": digest, "verdict": "reject", "corrects": first, "note": "duplicate"},
    )
    assert answer.status_code == 201, answer.text
    fix = answer.json()["entry"]
    listed = entries(_service(world), _service(world).find(world.url))
    assert superseded(listed)[first] == fix
    latest = current(listed)[iri]
    assert latest.iri == fix and latest.verdict == "reject" and latest.reviewer == world.founder.webid


def _refused(world: World, who: Someone | None, body: dict[str, Any], status: int, words: str) -> None:
    before = listing(world, "ledger/")
    answer = world.action(who, "acknowledge", body)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert words in answer.json()["detail"], answer.json()
    assert listing(world, "ledger/") == before


def test_nobody_acknowledges_their_own_contribution(world: World) -> None:
    maintainer = world.people["maintainer"]
    iri, _ = contribution(world, maintainer)
    digest = _digest_as_owner(world, maintainer, iri)
    _refused(world, maintainer, {"contribution": iri, "digest": digest}, 403, "your own contribution")


def test_a_changed_contribution_is_a_conflict(world: World) -> None:
    author = world.people["author"]
    iri, turtle = contribution(world, author)
    digest = _digest_as_owner(world, author, iri)
    # The author changes the hours after the reviewer looked.
    write_private(author, iri.split("#")[0], turtle.replace("3.5", "35"), (world.webid,))
    _refused(
        world,
        world.people["maintainer"],
        {"contribution": iri, "digest": digest},
        409,
        "changed since you reviewed it",
    )


def test_a_wrong_digest_is_a_conflict(world: World) -> None:
    iri, _ = contribution(world, world.people["author"])
    _refused(world, world.people["maintainer"], {"contribution": iri, "digest": DIGEST}, 409, "changed since")


def test_a_non_conforming_contribution_is_unprocessable(world: World) -> None:
    author = world.people["author"]
    iri, turtle = contribution(world, author)
    write_private(
        author,
        iri.split("#")[0],
        turtle.replace("vf:action vf:work", "vf:action vf:transfer"),
        (world.webid,),
    )
    digest = _digest_as_owner(world, author, iri)
    _refused(
        world, world.people["maintainer"], {"contribution": iri, "digest": digest}, 422, "contribution shape"
    )


def test_a_contribution_to_someone_else_is_unprocessable(world: World) -> None:
    author = world.people["author"]
    iri, _ = contribution(world, author, receiver=world.founder.webid)
    digest = _digest_as_owner(world, author, iri)
    _refused(world, world.people["maintainer"], {"contribution": iri, "digest": digest}, 422, "vf:receiver")


def test_a_contribution_the_community_cannot_read_is_unprocessable(world: World) -> None:
    author = world.people["author"]
    iri, turtle = contribution(world, author)
    write_private(author, iri.split("#")[0], turtle, ())
    digest = _digest_as_owner(world, author, iri)
    _refused(world, world.people["maintainer"], {"contribution": iri, "digest": digest}, 422, "Read access")


def test_the_node_must_be_the_contribution(world: World) -> None:
    author = world.people["author"]
    iri, _ = contribution(world, author)
    digest = _digest_as_owner(world, author, iri)
    body = {"contribution": iri.replace("#it", "#other"), "digest": digest}
    _refused(world, world.people["maintainer"], body, 422, "no cbpp:Contribution")


def test_a_plain_member_may_not_acknowledge(world: World) -> None:
    iri, _ = contribution(world, world.founder)
    digest = _digest_as_owner(world, world.founder, iri)
    _refused(world, world.people["author"], {"contribution": iri, "digest": digest}, 403, "maintainer")


@pytest.mark.parametrize(
    "corrects,words",
    [("ledger/nothing-here#entry", "not a ledger entry"), ("other", "same contribution")],
)
def test_corrections_must_name_an_entry_about_the_same_contribution(
    world: World, corrects: str, words: str
) -> None:
    author, maintainer = world.people["author"], world.people["maintainer"]
    iri, _ = contribution(world, author)
    digest = _digest_as_owner(world, author, iri)
    if corrects == "other":
        other, _ = contribution(world, author, note="something else")
        other_digest = _digest_as_owner(world, author, other)
        answer = world.action(maintainer, "acknowledge", {"contribution": other, "digest": other_digest})
        assert answer.status_code == 201, answer.text
        corrects = answer.json()["entry"]
    else:
        corrects = world.at(corrects)
    _refused(world, maintainer, {"contribution": iri, "digest": digest, "corrects": corrects}, 422, words)
