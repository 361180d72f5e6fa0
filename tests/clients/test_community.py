"""pod_client.community and pod_client.digest.

Unit part: names and keys, the documents the member writes (checked against the bundled SHACL
shapes the server validates with), the visibility ACLs, value-rule parsing, and the content digest
(the same across serialisations, and the same as the server's own implementation).

Live part, against a provider-mode pod-server: found a community, join and be accepted, be invited
and accept, contribute with each visibility, acknowledge (and be refused self-acknowledgement and
a stale digest), leave. Test-side checks use tests/access/helpers.py's agents, not pod_client.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pod_client import Conflict, Forbidden, NotFound, PodClientError
from pod_client.community import (
    Community,
    ballot_graph,
    community_of_motion,
    community_root,
    contribution_graph,
    effort_hours,
    event_iri,
    key_of,
    member_half,
    motion_iri,
    parse_value_rule,
    relative_turtle,
    visibility_acl,
)
from pod_client.digest import content_digest
from pod_client.pod import Pod
from pod_client.vocab import ACL, CBPP, FOAF, KIND, LDP, OM, ORG, RDF, RDFS, VF
from rdflib import BNode, Graph, Literal, URIRef

from pod_server.community.digest import content_digest as server_digest
from pod_server.shapes import ShapeLibrary
from tests.access.helpers import PUBLIC, Agent, Person, log_in, make_person
from tests.clients.people import session_for
from tests.conftest import LiveServer, _serve

C = "https://host.example/commons/"
COMMUNITY = C + "profile/card#me"
ALICE = "https://alice.example/profile/card#me"
WHEN = datetime(2026, 11, 3, 16, tzinfo=UTC)
LATER = datetime(2026, 11, 3, 18, tzinfo=UTC)


@pytest.fixture(scope="module")
def shapes() -> ShapeLibrary:
    return ShapeLibrary.bundled()


# -- names ------------------------------------------------------------------------------------------


def test_key_is_the_start_of_the_sha256() -> None:
    webid = "https://a.example/profile/card#me"
    assert key_of(webid) == hashlib.sha256(webid.encode()).hexdigest()[:24]
    assert len(key_of(webid)) == 24


@pytest.mark.parametrize("given", [C, C[:-1], COMMUNITY, C + "profile/card", C + ".well-known/community"])
def test_community_root(given: str) -> None:
    assert community_root(given) == C


def test_motion_names() -> None:
    for given in (C + "proposals/7", C + "proposals/7#motion", C + "proposals/7#event"):
        assert community_of_motion(given) == C
        assert motion_iri(given) == C + "proposals/7#motion"
        assert event_iri(given) == C + "proposals/7#event"
    with pytest.raises(ValueError):
        community_of_motion(C + "decisions/7")


# -- documents -----------------------------------------------------------------------------------------


def test_member_half_conforms_and_points_at_the_community_half(shapes: ShapeLibrary) -> None:
    doc = f"https://alice.example/memberships/{key_of(COMMUNITY)}"
    graph = member_half(doc, ALICE, C)
    node = URIRef(doc + "#membership")
    assert (node, RDF.type, ORG.Membership) in graph
    assert graph.value(node, ORG.member) == URIRef(ALICE)
    assert graph.value(node, ORG.organization) == URIRef(COMMUNITY)
    assert graph.value(node, RDFS.seeAlso) == URIRef(f"{C}members/{key_of(ALICE)}#membership")
    validation = shapes.validate(graph, "membership")
    assert validation.conforms and validation.focus_count == 1, validation.text


@pytest.mark.parametrize(
    "options",
    [
        {"kinds": ["documentation"], "hours": 3.5, "at": WHEN},
        {"kinds": ["code", "review"], "hours": Decimal("0.25"), "begin": WHEN, "end": LATER},
        {"kinds": ["care"], "note": "x" * 2000, "evidence": ["https://git.example/pull/42"]},
        {"kinds": [str(KIND.event)], "visibility": "public", "action": "produce"},
        {"kinds": ["mentoring"], "hours": 0, "visibility": "private", "action": "deliver-service"},
    ],
)
def test_contributions_conform(shapes: ShapeLibrary, options: dict[str, Any]) -> None:
    doc = "https://alice.example/contributions/1"
    graph = contribution_graph(doc, provider=ALICE, community=C, **options)
    node = URIRef(doc + "#it")
    assert graph.value(node, VF.provider) == URIRef(ALICE)
    assert graph.value(node, VF.receiver) == URIRef(COMMUNITY)
    assert graph.value(node, CBPP.visibility) is not None
    if "hours" in options:
        assert effort_hours(graph, node) == Decimal(str(options["hours"]))
    validation = shapes.validate(graph, "contribution")
    assert validation.conforms and validation.focus_count >= 1, validation.text


@pytest.mark.parametrize(
    "options,says",
    [
        ({"kinds": []}, "kind"),
        ({"kinds": ["gardening"]}, "unknown contribution kind"),
        ({"kinds": ["code"], "hours": -1}, "0 or more"),
        ({"kinds": ["code"], "note": "x" * 2001}, "2000"),
        ({"kinds": ["code"], "visibility": "friends"}, "visibility"),
        ({"kinds": ["code"], "action": "dance"}, "action"),
        ({"kinds": ["code"], "begin": WHEN}, "both"),
        ({"kinds": ["code"], "begin": WHEN, "end": WHEN}, "after the beginning"),
        ({"kinds": ["code"], "at": WHEN, "begin": WHEN, "end": WHEN}, "not both"),
        ({"kinds": ["code"], "at": datetime(2026, 11, 3)}, "time zone"),
    ],
)
def test_contribution_mistakes(options: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        contribution_graph("https://alice.example/contributions/1", provider=ALICE, community=C, **options)


def test_ballot_conforms(shapes: ShapeLibrary) -> None:
    doc = "https://alice.example/votes/1"
    graph = ballot_graph(doc, voter=ALICE, motion=C + "proposals/7#motion", option="abstain")
    validation = shapes.validate(graph, "vote")
    assert validation.conforms and validation.focus_count == 1, validation.text
    with pytest.raises(ValueError):
        ballot_graph(doc, voter=ALICE, motion=C + "proposals/7", option="maybe")


@pytest.mark.parametrize(
    "visibility,readers",
    [
        ("private", {(ACL.agent, URIRef(ALICE))}),
        (
            "community",
            {
                (ACL.agent, URIRef(ALICE)),
                (ACL.agent, URIRef(COMMUNITY)),
                (ACL.agentGroup, URIRef(C + "groups/members#group")),
            },
        ),
        ("public", {(ACL.agent, URIRef(ALICE)), (ACL.agentClass, FOAF.Agent)}),
    ],
)
def test_visibility_acl(visibility: str, readers: set[tuple[URIRef, URIRef]]) -> None:
    doc = "https://alice.example/contributions/1"
    graph = visibility_acl(doc, doc + ".acl", owner=ALICE, community=C, visibility=visibility)
    found = set()
    for rule in graph.subjects(ACL.mode, ACL.Read):
        assert (rule, ACL.accessTo, URIRef(doc)) in graph
        assert (rule, ACL.default, None) not in graph
        for predicate in (ACL.agent, ACL.agentGroup, ACL.agentClass):
            found.update((predicate, o) for o in graph.objects(rule, predicate))
    assert found == readers
    writers = {o for r in graph.subjects(ACL.mode, ACL.Write) for o in graph.objects(r, ACL.agent)}
    assert writers == {URIRef(ALICE)}


WEIGHTS = {"mentoring": 2.0, "outreach": 0.5}


@pytest.mark.parametrize(
    "spec,rate,weights,cap,period",
    [
        ("credit_per_hour=10,care=1.5,cap=40", 10.0, {"care": 1.5}, 40.0, None),
        ("credit_per_hour=2.5", 2.5, {}, None, None),
        (
            "credit_per_hour=10, mentoring=2, outreach=0.5, period=P1M",
            10.0,
            {"mentoring": 2.0, "outreach": 0.5},
            None,
            "P1M",
        ),
    ],
)
def test_parse_value_rule(
    spec: str, rate: float, weights: dict[str, float], cap: float | None, period: str | None
) -> None:
    effect = parse_value_rule(spec, "Our rule")
    assert effect["type"] == "adopt-value-rule"
    rule = effect["rule"]
    assert rule["title"] == "Our rule"
    assert rule["credit_per_hour"] == rate
    assert rule["kind_weights"] == weights
    assert rule.get("cap_per_period") == cap
    assert rule.get("period") == period


@pytest.mark.parametrize(
    "spec,says",
    [
        ("care=1.5", "credit_per_hour"),
        ("credit_per_hour=ten", "not a number"),
        ("credit_per_hour=10,cap=-1", "0 or more"),
        ("credit_per_hour=10,gardening=2", "unknown contribution kind"),
        ("credit_per_hour", "name=value"),
    ],
)
def test_value_rule_mistakes(spec: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_value_rule(spec)


def test_relative_turtle_takes_the_new_resources_url() -> None:
    placeholder = "https://new.invalid/resource"
    graph = contribution_graph(placeholder, provider=ALICE, community=C, kinds=["code"], hours=1, at=WHEN)
    body = relative_turtle(graph, placeholder)
    assert placeholder.encode() not in body
    where = "https://alice.example/contributions/abc"
    parsed = Graph().parse(data=body, format="turtle", publicID=where)
    assert parsed.value(URIRef(where + "#it"), VF.provider) == URIRef(ALICE)
    assert len(parsed) == len(graph)


# -- digests -----------------------------------------------------------------------------------------------

DOC = "https://alice.example/contributions/1"
TURTLE = f"""@prefix vf: <{VF._NS}> . @prefix om: <{OM._NS}> .
<#it> vf:note "Rewrote the \\"install\\" guide\\nline two, é" ;
  vf:effortQuantity [ vf:hasNumericalValue 3.5 ; vf:hasUnit om:hour ] ;
  vf:resourceClassifiedAs <https://w3id.org/pod-server/kinds#documentation> .
"""
NTRIPLES = f"""<{DOC}#it> <{VF.resourceClassifiedAs}> <https://w3id.org/pod-server/kinds#documentation> .
_:zz9 <{VF.hasUnit}> <{OM.hour}> .
_:zz9 <{VF.hasNumericalValue}> "3.5"^^<http://www.w3.org/2001/XMLSchema#decimal> .
<{DOC}#it> <{VF.effortQuantity}> _:zz9 .
<{DOC}#it> <{VF.note}> "Rewrote the \\"install\\" guide\\nline two, \\u00E9" .
"""
JSONLD = f"""{{"@context": {{"vf": "{VF._NS}"}},
 "@id": "#it",
 "vf:resourceClassifiedAs": {{"@id": "https://w3id.org/pod-server/kinds#documentation"}},
 "vf:note": "Rewrote the \\"install\\" guide\\nline two, é",
 "vf:effortQuantity": {{"@id": "_:m", "vf:hasUnit": {{"@id": "{OM.hour}"}},
   "vf:hasNumericalValue": {{"@value": "3.5", "@type": "http://www.w3.org/2001/XMLSchema#decimal"}}}}}}"""


def test_digest_is_the_same_in_every_syntax() -> None:
    digests = {
        content_digest(TURTLE, DOC),
        content_digest(NTRIPLES, DOC, "application/n-triples"),
        content_digest(JSONLD, DOC, "application/ld+json"),
        content_digest(Graph().parse(data=TURTLE, format="turtle", publicID=DOC), DOC),
    }
    assert len(digests) == 1
    digest = digests.pop()
    assert digest.startswith("sha256-") and len(digest) == len("sha256-") + 44


def test_digest_changes_with_any_term() -> None:
    base = content_digest(TURTLE, DOC)
    assert content_digest(TURTLE.replace("3.5", "4.5"), DOC) != base
    assert content_digest(TURTLE.replace("documentation", "code"), DOC) != base
    assert content_digest(TURTLE, DOC + "x") != base  # relative IRIs resolve against the URL
    graph = Graph().parse(data=TURTLE, format="turtle", publicID=DOC)
    graph.add((BNode(), VF.note, Literal("one more")))
    assert content_digest(graph, DOC) != base


@pytest.mark.parametrize("text,content_type", [(TURTLE, "text/turtle"), (NTRIPLES, "application/n-triples")])
def test_digest_agrees_with_the_servers(text: str, content_type: str) -> None:
    # Two implementations of model §5 (pod_client must not import pod_server): they must agree.
    assert content_digest(text, DOC, content_type) == server_digest(text.encode(), DOC, content_type)


# -- live --------------------------------------------------------------------------------------------------


@dataclass
class World:
    server: LiveServer
    alice: Person  # founds the community: admin
    bob: Person  # joins and is accepted
    carol: Person  # is invited
    dave: Person  # not a member
    community: Community  # as alice

    def as_(self, person: Person) -> Community:
        return Community(session_for(self.server, person), self.community.url)

    def agent(self, person: Person) -> Agent:
        return log_in(self.server, person, "test-side")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for server in _serve(tmp_path_factory.mktemp("client-community"), single_pod=False):
        alice, bob, carol, dave = (make_person(server, n) for n in ("alice", "bob", "carol", "dave"))
        name = "commons" + uuid.uuid4().hex[:6]
        community, answer = Community.create(
            session_for(server, alice), server.url, name, "OpenMaps Commons", mission="Maps for all"
        )
        assert answer["confirmed"] is True, answer
        world = World(server, alice, bob, carol, dave, community)
        world.as_(bob).join()
        request = next(r for r in world.community.join_requests() if r["actor"] == bob.webid)
        world.community.accept_request(request["membership"])
        world.community.invite(carol.webid)
        world.as_(carol).accept_invitation()
        yield world


def _roster(world: World) -> dict[str, tuple[str, ...]]:
    return {m.webid: m.roles for m in world.community.show().members if m.confirmed}


def test_founding_makes_the_founder_a_confirmed_admin(world: World) -> None:
    info = world.community.show()
    assert info.name == "OpenMaps Commons"
    assert info.mission == "Maps for all"
    assert info.webid == world.community.url + "profile/card#me"
    assert set(_roster(world)[world.alice.webid]) >= {"admin", "member"}


def test_the_member_half_is_in_the_members_pod_for_the_community_only(world: World) -> None:
    half = world.community.member_half_url()
    assert half == f"{world.alice.pod}memberships/{key_of(world.community.webid)}"
    owner = world.agent(world.alice)
    graph = Graph().parse(data=owner.get(half).text, format="turtle", publicID=half)
    assert graph.value(URIRef(half + "#membership"), RDFS.seeAlso) == URIRef(
        world.community.community_half_url(world.alice.webid)
    )
    assert PUBLIC.get(half).status_code == 401
    assert world.agent(world.dave).get(half).status_code == 403
    # memberships/ declares its shape (model §2)
    meta = Pod(session_for(world.server, world.alice)).get_graph(world.alice.pod + "memberships/.meta").graph
    assert (URIRef(world.alice.pod + "memberships/"), LDP.constrainedBy, None) in meta


def test_join_and_invitation_confirm_both_members(world: World) -> None:
    roster = _roster(world)
    assert roster[world.bob.webid] == ("member",)
    assert roster[world.carol.webid] == ("member",)
    assert world.dave.webid not in roster


def test_a_member_may_not_admit(world: World) -> None:
    dave = world.as_(world.dave)
    half = dave.write_member_half()
    with pytest.raises(Forbidden):
        world.as_(world.bob).accept_request(half)
    assert world.dave.webid not in _roster(world)


@pytest.mark.parametrize(
    "visibility,member,outsider,public",
    [("community", 200, 403, 401), ("public", 200, 200, 200), ("private", 403, 403, 401)],
)
def test_contribution_visibility(
    world: World, visibility: str, member: int, outsider: int, public: int
) -> None:
    node = world.as_(world.bob).contribute(
        ["documentation"], hours=2, note=f"{visibility} work", at=WHEN, visibility=visibility
    )
    doc = node.split("#")[0]
    assert doc.startswith(world.bob.pod + "contributions/")
    assert world.agent(world.bob).get(doc).status_code == 200
    assert world.agent(world.carol).get(doc).status_code == member
    assert world.agent(world.dave).get(doc).status_code == outsider
    assert PUBLIC.get(doc).status_code == public
    announced = [c.iri for c in world.community.contributions()[0]]
    assert (node in announced) == (visibility != "private")


def test_acknowledge(world: World) -> None:
    bob = world.as_(world.bob)
    node = bob.contribute(["code"], hours=Decimal("1.5"), note="fixed the tiles", at=WHEN)
    with pytest.raises(Forbidden):  # no self-acknowledgement
        bob.acknowledge(node)
    stale = world.community.digest_of(node)
    answer = world.community.acknowledge(node, note="thanks")
    entry = answer["entry"]
    graph = Graph().parse(data=PUBLIC.get(entry).text, format="turtle", publicID=entry)
    subject = next(graph.subjects(CBPP.objectDigest, Literal(stale)))
    assert graph.value(subject, CBPP.contributor) == URIRef(world.bob.webid)
    # The contribution changes: an acknowledgement of what the reviewer saw before is refused.
    doc = node.split("#")[0]
    Pod(session_for(world.server, world.bob)).update_graph(
        doc, lambda g: g.set((URIRef(node), VF.note, Literal("fixed the tiles, and more")))
    )
    with pytest.raises(Conflict):
        world.community.acknowledge(node, digest=stale)


def test_leave_deletes_the_member_half(world: World) -> None:
    carol = world.as_(world.carol)
    half = carol.member_half_url()
    answer = carol.leave()
    assert answer["member_half_deleted"] is True
    assert world.agent(world.carol).get(half).status_code == 404
    assert world.carol.webid not in _roster(world)
    with pytest.raises(PodClientError):
        carol.leave()


def test_a_taken_name_is_refused_and_leaves_no_member_half(world: World) -> None:
    name = world.community.url.rstrip("/").rsplit("/", 1)[-1]
    dave = session_for(world.server, world.dave)
    with contextlib.suppress(NotFound):  # dave's half from an earlier test
        Pod(dave).delete(Community(dave, world.community.url).member_half_url())
    with pytest.raises(PodClientError) as raised:
        Community.create(dave, world.server.url, name, "Squatters")
    assert raised.value.status == 409
    half = Community(dave, world.community.url).member_half_url()
    assert world.agent(world.dave).get(half).status_code == 404
    # The founder trying again keeps the member half of her real membership.
    with pytest.raises(PodClientError):
        Community.create(world.community.session, world.server.url, name, "Again")
    assert world.agent(world.alice).get(world.community.member_half_url()).status_code == 200
    assert world.alice.webid in _roster(world)
