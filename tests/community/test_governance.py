"""Governance (model §5 propose/vote/tally, §7): the documents written, checked against the
bundled shapes, and the endpoints on a live server. A refused vote changes neither the motion nor
the inbox; a motion is decided once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from rdflib import Graph, URIRef

from pod_server.community.effects import AdmitMember, AdoptDecisionRule, AdoptValueRule, RemoveMember
from pod_server.community.governance import (
    Count,
    Motion,
    decision_graph,
    motion_graph,
    motion_relative,
    read_motion,
)
from pod_server.community.layout import rules_graph
from pod_server.community.model import Community
from pod_server.community.service import CommunityService
from pod_server.community.tally import Ballot, DecisionRule, decide
from pod_server.errors import BadRequest, NotFound
from pod_server.shapes import ShapeLibrary
from pod_server.vocab import AS, CBPP, DCTERMS, KIND, OPENGOV, ORG, PROV, RDF, SCHEMA, TIME
from tests.community.governance_world import (
    PREFIXES,
    Someone,
    World,
    ballot,
    body_of,
    found,
    join,
    listing,
    someone,
    write_private,
)
from tests.conftest import LiveServer

C = Community.of("/commons/", "https://pods.example/commons/")
W = "https://alice.example/profile/card#me"
RULE = DecisionRule(C.at("governance/rules#default"), C.role("member"), Decimal("0.5"), Decimal("0.5"), "P7D")


def ballots(*options: str) -> list[Ballot]:
    return [Ballot(f"https://p{i}.example/#me", option) for i, option in enumerate(options)]


# -- documents against the bundled shapes --------------------------------------------------------
SHAPES = ShapeLibrary.bundled()
OPENS = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
MOTION_URL = C.at("proposals/abc")


@pytest.mark.parametrize(
    "effect",
    [
        None,
        RemoveMember(W),
        AdmitMember(W, C.role("maintainer")),
        AdoptValueRule("Care", Decimal(10), ((str(KIND.care), Decimal("1.5")),), Decimal(40), "P1M"),
        AdoptDecisionRule(Decimal("0.25"), Decimal("0.5"), "P3D", C.role("member"), CBPP.CreditWeighted),
    ],
    ids=["none", "remove", "admit", "value-rule", "decision-rule"],
)
def test_motions_conform_and_read_back(effect: Any) -> None:
    graph = motion_graph(
        C, MOTION_URL, title="Do it", description=None, creator=W, rule=RULE, effect=effect, opens=OPENS
    )
    validation = SHAPES.validate(graph, "motion")
    assert validation.conforms, validation.text
    motion = read_motion(graph, C, "proposals/abc")
    assert motion.closes == OPENS + timedelta(days=7)
    assert motion.decided_by is None and motion.ballots == {}
    assert (motion.effect is None) is (effect is None)


def test_read_motion_refuses_other_documents() -> None:
    with pytest.raises(NotFound):
        read_motion(rules_graph(C), C, "proposals/abc")


@pytest.mark.parametrize(
    "iri,relative",
    [
        (MOTION_URL + "#motion", "proposals/abc"),
        (MOTION_URL + "#event", "proposals/abc"),
        (MOTION_URL, "proposals/abc"),
    ],
)
def test_motion_relative(iri: str, relative: str) -> None:
    assert motion_relative(C, iri) == relative


@pytest.mark.parametrize(
    "iri",
    [
        C.at("proposals/"),
        C.at("proposals/a/b#motion"),
        C.at("decisions/abc#event"),
        "https://else.example/proposals/abc",
    ],
)
def test_motion_relative_refuses_other_iris(iri: str) -> None:
    with pytest.raises(BadRequest):
        motion_relative(C, iri)


def test_decision_document_lists_counts_and_ballots() -> None:
    motion = Motion(
        MOTION_URL + "#motion", MOTION_URL + "#event", "proposals/abc", RULE.iri, OPENS, None, None, {}
    )
    outcome = decide(RULE, 3, ballots("yes", "yes", "no"))
    count = Count(
        ballots("yes", "yes", "no"), ["https://p0.example/votes/1#vote"], {"https://x.example/v#vote": "gone"}
    )
    graph = decision_graph(C, motion, RULE, outcome, count, tallied_by=W, now=OPENS)
    event = URIRef(C.at("decisions/abc#event"))
    assert str(graph.value(event, OPENGOV.result)) == "pass"
    assert (event, PROV.used, URIRef("https://p0.example/votes/1#vote")) in graph
    values = {
        str(graph.value(n, SCHEMA.option)): graph.value(n, RDF.value)
        for n in graph.objects(event, OPENGOV.count)
    }
    assert {k: int(v) for k, v in values.items()} == {"yes": 2, "no": 1, "abstain": 0}  # type: ignore[arg-type]


# -- the endpoints -------------------------------------------------------------------------------
def _service(world: World) -> CommunityService:
    service: CommunityService = world.server.app.extensions["pod_server.community"].service
    return service


@contextlib.contextmanager
def later(world: World, delta: timedelta) -> Iterator[None]:
    """The server's clock runs ``delta`` ahead inside the block."""
    service = _service(world)
    real = service.clock
    service.clock = lambda: real() + delta
    try:
        yield
    finally:
        service.clock = real


def _graph(world: World, url: str) -> Graph:
    document = url.split("#")[0]
    return Graph().parse(data=body_of(world, document), format="turtle", publicID=document)


def _ok(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    found_json: dict[str, Any] = answer.json()
    return found_json


def propose(world: World, who: Someone, effect: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"title": "Paint the shed", "description": "green"}
    if effect is not None:
        body["effect"] = effect
    return str(_ok(world.action(who, "propose", body), 201)["motion"])


def cast(world: World, who: Someone, motion: str, option: str) -> dict[str, Any]:
    event = motion.replace("#motion", "#event")
    return _ok(world.action(who, "vote", {"ballot": ballot(world, who, event, option)}), 200)


def everyone_votes(world: World, motion: str, option: str = "yes") -> None:
    for who in [world.founder, *world.people.values()]:
        cast(world, who, motion, option)


@pytest.fixture(scope="module")
def world(provider: LiveServer) -> Iterator[World]:
    made = found(provider)
    join(made, "ann")
    join(made, "ben", "maintainer")
    join(made, "cat")
    yield made


def test_a_member_proposes_a_motion(world: World) -> None:
    before = datetime.now(UTC)
    answer = _ok(world.action(world.people["ann"], "propose", {"title": "Buy a kettle"}), 201)
    motion = answer["motion"]
    assert motion.startswith(world.at("proposals/")) and motion.endswith("#motion")
    closes = datetime.fromisoformat(answer["closes"].replace("Z", "+00:00"))
    assert (
        before + timedelta(days=7) - timedelta(seconds=2) <= closes <= datetime.now(UTC) + timedelta(days=7)
    )
    graph = _graph(world, motion)
    assert (URIRef(motion), RDF.type, OPENGOV.Motion) in graph
    assert (
        URIRef(motion),
        DCTERMS.creator,
        URIRef(world.people["ann"].webid),
    ) in graph
    assert ShapeLibrary.bundled().validate(graph, "motion").conforms


@pytest.mark.parametrize(
    "body,status",
    [
        ({}, 400),
        ({"title": ""}, 400),
        ({"title": "t", "effect": {"type": "dissolve"}}, 400),
        ({"title": "t", "effect": {"type": "admit-member", "member": W, "role": "king"}}, 400),
        ({"title": "t", "vote": "now"}, 400),
        ({"title": "t", "effect": {"type": "remove-member", "member": W}}, 422),  # not a member
    ],
)
def test_bad_proposals_write_nothing(world: World, body: dict[str, Any], status: int) -> None:
    before = listing(world, "proposals/")
    assert world.action(world.people["ann"], "propose", body).status_code == status
    assert listing(world, "proposals/") == before


def test_admitting_a_member_is_a_conflict(world: World) -> None:
    effect = {"type": "admit-member", "member": world.people["cat"].webid}
    assert world.action(world.people["ann"], "propose", {"title": "t", "effect": effect}).status_code == 409


def test_outsiders_may_not_propose(world: World) -> None:
    outsider = someone(world.server, "outsider")
    assert world.action(None, "propose", {"title": "t"}).status_code == 401
    assert world.action(outsider, "propose", {"title": "t"}).status_code == 403


def test_a_vote_is_recorded_and_announced(world: World) -> None:
    ann = world.people["ann"]
    motion = propose(world, ann)
    inbox = listing(world, "inbox/")
    answer = cast(world, ann, motion, "yes")
    assert answer["option"] == "yes" and answer["replaced"] == []
    graph = _graph(world, motion)
    event = URIRef(motion.replace("#motion", "#event"))
    assert set(graph.objects(event, OPENGOV.vote)) == {URIRef(answer["ballot"])}
    assert (URIRef(answer["ballot"]), SCHEMA.agent, URIRef(ann.webid)) in graph
    new = listing(world, "inbox/") - inbox
    assert len(new) == 1
    announce = _graph(world, new.pop())
    assert set(announce.subjects(AS.object, URIRef(answer["ballot"])))
    assert set(announce.subjects(AS.actor, URIRef(ann.webid)))


def test_a_later_ballot_replaces_the_earlier(world: World) -> None:
    ben = world.people["ben"]
    motion = propose(world, ben)
    first = cast(world, ben, motion, "yes")["ballot"]
    second = cast(world, ben, motion, "no")
    assert second["replaced"] == [first]
    event = URIRef(motion.replace("#motion", "#event"))
    assert set(_graph(world, motion).objects(event, OPENGOV.vote)) == {URIRef(second["ballot"])}


def _refused_vote(
    world: World, who: Someone | None, ballot_iri: str, motion: str, status: int, words: str
) -> None:
    before_motion, before_inbox = body_of(world, motion.split("#")[0]), listing(world, "inbox/")
    answer = world.action(who, "vote", {"ballot": ballot_iri})
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"], answer.json()
    assert body_of(world, motion.split("#")[0]) == before_motion
    assert listing(world, "inbox/") == before_inbox


def test_a_non_member_may_not_vote(world: World) -> None:
    motion = propose(world, world.people["ann"])
    outsider = someone(world.server, "outsider")
    own = ballot(world, outsider, motion.replace("#motion", "#event"), "yes")
    _refused_vote(world, outsider, own, motion, 403, "not a confirmed member")
    _refused_vote(world, None, own, motion, 401, "log in")


def test_a_ballot_of_someone_else_is_forbidden(world: World) -> None:
    ann, cat = world.people["ann"], world.people["cat"]
    motion = propose(world, ann)
    event = motion.replace("#motion", "#event")
    # Cat writes a ballot in her pod claiming to be Ann's; and Cat sends Ann's own ballot.
    forged = ballot(world, cat, event, "no", agent=ann.webid)
    _refused_vote(world, cat, forged, motion, 403, "not you")
    anns = ballot(world, ann, event, "yes")
    _refused_vote(world, cat, anns, motion, 403, "not you")


@pytest.mark.parametrize(
    "option,event,words",
    [
        ("maybe", None, "vote shape"),
        ("yes", "https://else.example/proposals/x#event", "not a motion of this community"),
        ("yes", "decisions", "not a motion of this community"),
        ("yes", "motion", "must be"),
    ],
)
def test_bad_ballots_are_unprocessable(world: World, option: str, event: str | None, words: str) -> None:
    ann = world.people["ann"]
    motion = propose(world, ann)
    target = {
        None: motion.replace("#motion", "#event"),
        "decisions": world.at("decisions/founding#event"),
        "motion": motion,
    }.get(event, event)
    _refused_vote(world, ann, ballot(world, ann, str(target), option), motion, 422, words)


def test_an_unreadable_ballot_is_unprocessable(world: World) -> None:
    ann = world.people["ann"]
    motion = propose(world, ann)
    iri = ballot(world, ann, motion.replace("#motion", "#event"), "yes")
    write_private(
        ann,
        iri.split("#")[0],
        f"<#vote> a opengov:Vote ; opengov:voteEvent <{motion.replace('#motion', '#event')}> ; "
        f'schema:agent <{ann.webid}> ; schema:option "yes" .',
        (),
    )
    _refused_vote(world, ann, iri, motion, 422, "could not be read")


def test_tally_waits_for_the_close_or_everyone(world: World) -> None:
    motion = propose(world, world.people["ann"])
    cast(world, world.people["ann"], motion, "yes")
    answer = world.action(world.people["cat"], "tally", {"motion": motion})
    assert answer.status_code == 409, answer.text
    assert "open until" in answer.json()["detail"] and "1 of 4" in answer.json()["detail"]
    assert world.action(world.people["cat"], "tally", {"motion": motion}).status_code == 409


def test_everyone_voted_the_motion_is_decided_once(world: World) -> None:
    motion = propose(world, world.people["ann"])
    for name, option in (("ann", "yes"), ("ben", "yes"), ("cat", "no")):
        cast(world, world.people[name], motion, option)
    cast(world, world.founder, motion, "abstain")
    decided = _ok(world.action(world.people["cat"], "tally", {"motion": motion}), 201)
    assert decided["result"] == "pass"
    assert decided["counts"] == {"yes": 2, "no": 1, "abstain": 1}
    assert decided["electorate"] == 4 and decided["voters"] == 4 and decided["effect"] is None
    graph = _graph(world, decided["decision"])
    event = URIRef(decided["decision"])
    assert (event, OPENGOV.motion, URIRef(motion)) in graph
    assert len(set(graph.objects(event, PROV.used))) == 4
    # The motion now says which decision ended its vote, and that is final.
    assert (
        URIRef(motion.replace("#motion", "#event")),
        PROV.wasEndedBy,
        URIRef(decided["decision"].split("#")[0]),
    ) in _graph(world, motion)
    again = world.action(world.people["ann"], "tally", {"motion": motion})
    assert again.status_code == 409 and "already decided" in again.json()["detail"]
    late = ballot(world, world.people["ann"], motion.replace("#motion", "#event"), "no")
    _refused_vote(world, world.people["ann"], late, motion, 409, "already decided")


def test_a_closed_motion_takes_no_votes_and_can_be_tallied(world: World) -> None:
    motion = propose(world, world.people["ann"])
    cast(world, world.people["ann"], motion, "yes")
    cast(world, world.people["ben"], motion, "yes")
    with later(world, timedelta(days=8)):
        late = ballot(world, world.people["cat"], motion.replace("#motion", "#event"), "no")
        _refused_vote(world, world.people["cat"], late, motion, 409, "closed")
        decided = _ok(world.action(world.people["cat"], "tally", {"motion": motion}), 201)
    assert decided["result"] == "pass" and decided["voters"] == 2  # 2/4 meets the quorum of 0.5


def test_a_changed_ballot_counts_as_it_reads_at_tally(world: World) -> None:
    ann, ben = world.people["ann"], world.people["ben"]
    motion = propose(world, ann)
    event = motion.replace("#motion", "#event")
    anns = cast(world, ann, motion, "yes")["ballot"]
    cast(world, ben, motion, "yes")
    # Ann points her ballot at another motion after it was recorded: it no longer counts here.
    other = propose(world, ann)
    write_private(
        ann,
        anns.split("#")[0],
        f"<#vote> a opengov:Vote ; opengov:voteEvent <{other.replace('#motion', '#event')}> ; "
        f'schema:agent <{ann.webid}> ; schema:option "yes" .',
        (world.webid,),
    )
    with later(world, timedelta(days=8)):
        decided = _ok(world.action(ben, "tally", {"motion": motion}), 201)
    assert decided["voters"] == 1 and decided["result"] == "fail"
    assert "no longer points at this vote event" in decided["not_counted"][anns]
    del event


def test_only_members_tally(world: World) -> None:
    motion = propose(world, world.people["ann"])
    assert world.action(None, "tally", {"motion": motion}).status_code == 401
    assert world.action(someone(world.server, "outsider"), "tally", {"motion": motion}).status_code == 403
    assert (
        world.action(world.people["ann"], "tally", {"motion": world.at("proposals/none#motion")}).status_code
        == 404
    )
    assert world.action(world.people["ann"], "tally", {"motion": world.at("ledger/x")}).status_code == 400


# -- effects (each in a community of two: the founder and one member) -------------------------------
@pytest.fixture()
def pair(provider: LiveServer) -> World:
    made = found(provider)
    join(made, "ann")
    return made


def _decide(world: World, effect: dict[str, Any], option: str = "yes") -> dict[str, Any]:
    motion = propose(world, world.people["ann"], effect)
    everyone_votes(world, motion, option)
    return _ok(world.action(world.people["ann"], "tally", {"motion": motion}), 201)


def _profile(world: World) -> Graph:
    return _graph(world, world.webid)


def test_adopting_a_decision_rule(pair: World) -> None:
    rule = {"quorum": 1, "threshold": 0.5, "period": "P1D", "weighting": "credit-weighted"}
    decided = _decide(pair, {"type": "adopt-decision-rule", "rule": rule})
    assert decided["result"] == "pass" and decided["effect"]["applied"] is True
    adopted = decided["effect"]["changed"]
    assert adopted == pair.at("governance/rules#r1")
    assert (URIRef(pair.webid), CBPP.decisionRule, URIRef(adopted)) in _profile(pair)
    rules = _graph(pair, adopted)
    assert (URIRef(adopted), PROV.wasGeneratedBy, URIRef(decided["decision"])) in rules
    assert (URIRef(adopted), CBPP.weighting, CBPP.CreditWeighted) in rules
    # New motions follow the new rule: a day to vote, and ballots weigh the voter's credit.
    answer = _ok(pair.action(pair.people["ann"], "propose", {"title": "Next"}), 201)
    assert answer["rule"] == adopted
    report = pair.at("credit/2026-11")
    turtle = (
        f'<#report> a cbpp:CreditReport ; cbpp:periodEnd "2026-12-01T00:00:00Z"^^xsd:dateTime .\n'
        f"<#total-1> a cbpp:CreditTotal ; vf:receiver <{pair.founder.webid}> ; cbpp:amount 35.0 .\n"
        f"<#total-2> a cbpp:CreditTotal ; vf:receiver <{pair.people['ann'].webid}> ; cbpp:amount 0.5 .\n"
    )
    put = pair.founder.agent.put(report, PREFIXES + turtle)
    assert put.status_code in (201, 204), put.text
    cast(pair, pair.founder, answer["motion"], "no")
    cast(pair, pair.people["ann"], answer["motion"], "yes")
    weighted = _ok(pair.action(pair.people["ann"], "tally", {"motion": answer["motion"]}), 201)
    assert weighted["counts"] == {"yes": 1, "no": 35, "abstain": 0}  # ann's 0.5 is raised to 1
    assert weighted["result"] == "fail"


def test_adopting_a_value_rule(pair: World) -> None:
    rule = {
        "title": "Care counts",
        "credit_per_hour": 10,
        "kind_weights": {"care": 1.5},
        "cap_per_period": 40,
        "period": "P1M",
    }
    decided = _decide(pair, {"type": "adopt-value-rule", "rule": rule})
    assert decided["effect"] == {"applied": True, "changed": pair.at("rules/value-1#rule")}
    assert (URIRef(pair.webid), CBPP.valueRule, URIRef(pair.at("rules/value-1#rule"))) in _profile(pair)
    second = _decide(pair, {"type": "adopt-value-rule", "rule": {"title": "Flat", "credit_per_hour": 5}})
    assert second["effect"]["changed"] == pair.at("rules/value-2#rule")
    profile = _profile(pair)
    assert set(profile.objects(URIRef(pair.webid), CBPP.valueRule)) == {URIRef(pair.at("rules/value-2#rule"))}


def test_removing_a_member(pair: World) -> None:
    bob = join(pair, "bob")
    decided = _decide(pair, {"type": "remove-member", "member": bob.webid})
    assert decided["result"] == "pass" and decided["effect"]["applied"] is True
    half = _graph(pair, decided["effect"]["changed"])
    assert (None, TIME.hasEnd, None) in half
    assert (URIRef(decided["effect"]["changed"]), PROV.wasInvalidatedBy, URIRef(decided["decision"])) in half
    roster = pair.founder.agent.get(pair.at(".well-known/community")).json()
    assert bob.webid not in {m["webid"] for m in roster["members"] if m["confirmed"]}
    # Bob is no longer an elector: he cannot vote any more.
    motion = propose(pair, pair.people["ann"])
    mine = ballot(pair, bob, motion.replace("#motion", "#event"), "yes")
    _refused_vote(pair, bob, mine, motion, 403, "member")


def test_admitting_a_member(pair: World) -> None:
    newcomer = someone(pair.server, "newcomer")
    decided = _decide(pair, {"type": "admit-member", "member": newcomer.webid, "role": "maintainer"})
    assert decided["effect"]["applied"] is True
    half = _graph(pair, decided["effect"]["changed"])
    node = URIRef(decided["effect"]["changed"])
    assert (node, PROV.wasGeneratedBy, URIRef(decided["decision"])) in half
    assert {pair.at("roles#maintainer"), pair.at("roles#member")} <= {
        str(r) for r in half.objects(node, ORG.role)
    }
    roster = pair.founder.agent.get(pair.at(".well-known/community")).json()
    assert newcomer.webid in {m["webid"] for m in roster["pending"]}


def test_a_failed_motion_has_no_effect(pair: World) -> None:
    rule = {"title": "Never", "credit_per_hour": 1}
    decided = _decide(pair, {"type": "adopt-value-rule", "rule": rule}, option="no")
    assert decided["result"] == "fail" and decided["effect"] is None
    assert (URIRef(pair.webid), CBPP.valueRule, None) not in _profile(pair)


def test_only_the_electorate_votes(pair: World) -> None:
    rule = {"quorum": 0.5, "threshold": 0.5, "period": "P7D", "electorate": "admin"}
    assert _decide(pair, {"type": "adopt-decision-rule", "rule": rule})["result"] == "pass"
    motion = propose(pair, pair.people["ann"])  # ann may propose and vote (policy), but is no elector
    mine = ballot(pair, pair.people["ann"], motion.replace("#motion", "#event"), "yes")
    _refused_vote(pair, pair.people["ann"], mine, motion, 403, "roles#admin")
    cast(pair, pair.founder, motion, "yes")
    decided = _ok(pair.action(pair.people["ann"], "tally", {"motion": motion}), 201)
    assert decided["electorate"] == 1 and decided["result"] == "pass"  # everyone (the founder) voted
