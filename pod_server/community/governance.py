"""Motions, votes and decisions (model §7): ``propose``, ``vote`` and ``tally``.

A motion is ``{c}proposals/{id}`` (server-written, shape ``motion``)::

    <#motion> a opengov:Motion ; dct:title ; dct:creator <W> ; schema:publisher <C> ;
      dct:conformsTo <decision rule> ; dct:created ; cbpp:effect <#effect>? .
    <#event> a opengov:VoteEvent ; opengov:motion <#motion> ; schema:startDate ; schema:endDate ;
      opengov:vote <ballot>* .                # recorded by vote
    <ballot> schema:agent <W> .               # who cast it, as the vote endpoint checked
    <#event> prov:wasEndedBy <{c}decisions/{id}> .   # once tallied

After creation the motion changes only through :func:`vote` (``opengov:vote`` and the voter of
each ballot, so a voter's later ballot replaces the earlier one) and :func:`tally`, which marks the
vote event as ended by the decision document (PROV-O ``prov:wasEndedBy``: the voting activity was
ended by that entity). The mark is written first, atomically, so a motion is decided at most once
(a second tally is 409) and no vote is recorded after it. The result itself lives only in the
decision ``{c}decisions/{id}``.

Ballots stay in the voters' pods; the server re-reads every one as ``C`` when tallying, so a
ballot changed after it was recorded counts as it reads then, and one that no longer points at
this vote event, no longer conforms or whose voter is no longer an elector is not counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pod_server.community import fields
from pod_server.community.edits import edit_graph
from pod_server.community.effects import AdmitMember, Effect, RemoveMember, apply_effect, parse_effect
from pod_server.community.halves import timestamp
from pod_server.community.layout import new_graph
from pod_server.community.tally import OPTIONS, Ballot, DecisionRule, Outcome, closes, decide
from pod_server.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PodError,
    Unauthorized,
    UnprocessableContent,
)
from pod_server.vocab import AS, CBPP, DCTERMS, OPENGOV, PROV, RDF, RDFS, SCHEMA, VF, XSD

if TYPE_CHECKING:
    from pod_server.access.credentials import Credentials
    from pod_server.community.model import Community, Member
    from pod_server.community.service import CommunityService

PROPOSALS = "proposals/"
DECISIONS = "decisions/"
MOTION_FRAGMENT = "#motion"
EVENT_FRAGMENT = "#event"
MAX_DESCRIPTION = 5000


# -- reading the community's governance ------------------------------------------------------
def role_names(svc: CommunityService, c: Community) -> dict[str, str]:
    """Role name -> role IRI (``svc.roles`` turned around)."""
    return {name: iri for iri, name in svc.roles(c).items()}


def decision_rule(svc: CommunityService, c: Community, iri: str | None = None) -> DecisionRule:
    """The decision rule ``iri`` (by default the one the profile names with ``cbpp:decisionRule``);
    rules live in ``{c}governance/rules``."""
    if iri is None:
        named = svc.read_graph(c, "profile/card").value(URIRef(c.webid), CBPP.decisionRule)
        if not isinstance(named, URIRef):
            raise UnprocessableContent(
                f"the community profile names no cbpp:decisionRule; {c.webid} needs one"
            )
        iri = str(named)
    if urldefrag(iri)[0] != c.at("governance/rules"):
        raise UnprocessableContent(f"the decision rule {iri} is not in {c.at('governance/rules')}")
    return DecisionRule.from_graph(svc.read_graph(c, "governance/rules"), iri)


@dataclass(frozen=True)
class Motion:
    """A stored motion. ``ballots`` maps each recorded ballot IRI to its voter."""

    iri: str
    event: str
    relative: str
    rule: str
    closes: datetime
    decided_by: str | None
    effect: Node | None
    ballots: dict[str, str]

    @property
    def name(self) -> str:
        return self.relative.removeprefix(PROPOSALS)

    @property
    def decision_relative(self) -> str:
        return DECISIONS + self.name


def motion_relative(c: Community, iri: str) -> str:
    """``proposals/{id}`` for the motion (or its vote event, or its document) ``iri``; 400 when
    ``iri`` is not inside ``{c}proposals/``."""
    document = urldefrag(iri)[0]
    name = document.removeprefix(c.at(PROPOSALS))
    if not document.startswith(c.at(PROPOSALS)) or not name or "/" in name:
        raise BadRequest(
            f"{iri} is not a motion of this community; motions are {c.at(PROPOSALS)}{{id}}#motion"
        )
    return PROPOSALS + name


def read_motion(graph: Graph, c: Community, relative: str) -> Motion:
    """The motion stored at ``relative``; 404 when the document holds no motion."""
    url = c.at(relative)
    motion, event = URIRef(url + MOTION_FRAGMENT), URIRef(url + EVENT_FRAGMENT)
    if (motion, RDF.type, OPENGOV.Motion) not in graph or (event, OPENGOV.motion, motion) not in graph:
        raise NotFound(f"there is no motion {motion}")
    end = graph.value(event, SCHEMA.endDate)
    rule = graph.value(motion, DCTERMS.conformsTo)
    ends = end.toPython() if isinstance(end, Literal) else None
    if not isinstance(ends, datetime) or ends.tzinfo is None or not isinstance(rule, URIRef):
        raise UnprocessableContent(f"the motion {motion} lacks a schema:endDate with a time zone or a rule")
    decided = graph.value(event, PROV.wasEndedBy)
    ballots = {
        str(b): str(graph.value(b, SCHEMA.agent))
        for b in graph.objects(event, OPENGOV.vote)
        if isinstance(b, URIRef)
    }
    return Motion(
        str(motion),
        str(event),
        relative,
        str(rule),
        ends,
        None if decided is None else str(decided),
        graph.value(motion, CBPP.effect),
        ballots,
    )


# -- ballots -------------------------------------------------------------------------------
@dataclass(frozen=True)
class BallotRead:
    """A ballot document as read as ``C`` and checked against the vote shape."""

    iri: str
    agent: str
    event: str
    option: str


def read_ballot(svc: CommunityService, c: Community, iri: str) -> BallotRead:
    """Read the ballot ``iri`` as ``C`` (model §7); 422 when unreadable, not conforming to the
    vote shape, or without exactly one agent, vote event and known option."""
    graph = svc.agent.graph(c.webid, iri)
    validation = svc.shapes.validate(graph, "vote")
    if not validation.conforms:
        raise UnprocessableContent(
            f"{urldefrag(iri)[0]} does not conform to the vote shape:\n{validation.text}"
        )
    node = URIRef(iri)
    if (node, RDF.type, OPENGOV.Vote) not in graph:
        raise UnprocessableContent(
            f"{urldefrag(iri)[0]} has no opengov:Vote {iri}; name the ballot node itself"
        )
    agents = [a for a in graph.objects(node, SCHEMA.agent) if isinstance(a, URIRef)]
    events = [e for e in graph.objects(node, OPENGOV.voteEvent) if isinstance(e, URIRef)]
    options = [str(o) for o in graph.objects(node, SCHEMA.option)]
    if len(agents) != 1 or len(events) != 1 or len(options) != 1 or options[0] not in OPTIONS:
        raise UnprocessableContent(
            f"the ballot {iri} needs exactly one schema:agent, one opengov:voteEvent and one schema:option "
            f"({', '.join(OPTIONS)})"
        )
    return BallotRead(iri, str(agents[0]), str(events[0]), options[0])


# -- propose -------------------------------------------------------------------------------
def motion_graph(
    c: Community,
    url: str,
    *,
    title: str,
    description: str | None,
    creator: str,
    rule: DecisionRule,
    effect: Effect | None,
    opens: datetime,
) -> Graph:
    """The motion document ``url`` (model §7), its vote open from ``opens`` for the rule's period."""
    graph = new_graph()
    graph.bind("opengov", OPENGOV._NS)
    graph.bind("schema", SCHEMA._NS)
    motion, event = URIRef(url + MOTION_FRAGMENT), URIRef(url + EVENT_FRAGMENT)
    graph.add((motion, RDF.type, OPENGOV.Motion))
    graph.add((motion, DCTERMS.title, Literal(title)))
    if description:
        graph.add((motion, DCTERMS.description, Literal(description)))
    graph.add((motion, DCTERMS.creator, URIRef(creator)))
    graph.add((motion, SCHEMA.publisher, URIRef(c.webid)))
    graph.add((motion, DCTERMS.conformsTo, URIRef(rule.iri)))
    graph.add((motion, DCTERMS.created, Literal(timestamp(opens), datatype=XSD.dateTime)))
    if effect is not None:
        graph.add((motion, CBPP.effect, effect.add_to(graph, url)))
    graph.add((event, RDF.type, OPENGOV.VoteEvent))
    graph.add((event, OPENGOV.motion, motion))
    graph.add((event, SCHEMA.startDate, Literal(timestamp(opens), datatype=XSD.dateTime)))
    graph.add((event, SCHEMA.endDate, Literal(timestamp(closes(opens, rule.period)), datatype=XSD.dateTime)))
    return graph


def _check_effect_now(svc: CommunityService, c: Community, effect: Effect | None) -> None:
    """Refuse effects that are already moot: removing a non-member, admitting a member."""
    if isinstance(effect, RemoveMember):
        known = svc.member(c, effect.member)
        if known is None or known.ended:
            raise UnprocessableContent(
                f"{effect.member} is not a member of this community; nothing to remove"
            )
    if isinstance(effect, AdmitMember):
        known = svc.member(c, effect.member)
        if known is not None and known.active:
            raise Conflict(f"{effect.member} is already a member of this community")


def propose(
    svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """``POST {c}.well-known/community/propose``: 201 ``{"motion", "event", "closes"}``. Policy
    ``cbpp:propose``; 400 bad field or effect; 409/422 an effect that is already moot."""
    proposer = svc.require(c, credentials, CBPP.propose)
    if not isinstance(body, dict):
        raise BadRequest('send a JSON object: {"title": ..., "description"?: ..., "effect"?: {...}}')
    fields.only(body, {"title", "description", "effect"})
    title = fields.text(body, "title", required=True) or ""
    description = fields.text(body, "description", max_length=MAX_DESCRIPTION)
    effect = None if body.get("effect") is None else parse_effect(body["effect"], role_names(svc, c))
    _check_effect_now(svc, c, effect)
    rule = decision_rule(svc, c)
    opens = svc.clock().replace(microsecond=0)
    url = svc.post_graph(
        c,
        PROPOSALS,
        lambda url: motion_graph(
            c,
            url,
            title=title,
            description=description,
            creator=proposer.webid,
            rule=rule,
            effect=effect,
            opens=opens,
        ),
        slug=uuid.uuid4().hex[:16],
    )
    return 201, {
        "motion": url + MOTION_FRAGMENT,
        "event": url + EVENT_FRAGMENT,
        "closes": timestamp(closes(opens, rule.period)),
        "rule": rule.iri,
    }


# -- vote ----------------------------------------------------------------------------------
def _still_open(motion: Motion, now: datetime) -> None:
    if motion.decided_by is not None:
        raise Conflict(f"the motion {motion.iri} is already decided ({motion.decided_by}); voting is over")
    if now >= motion.closes:
        raise Conflict(f"voting on {motion.iri} closed at {timestamp(motion.closes)}")


def vote(
    svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """``POST {c}.well-known/community/vote``: 200 ``{"motion", "ballot", "option", "replaced"}``.

    Policy ``cbpp:vote``; the ballot (read as ``C``) must conform to the vote shape (422), be the
    requester's (403), point at an open motion of this community (422 / 409) whose electorate role
    the requester holds (403). Records the ballot on the vote event, replacing the requester's
    earlier one, and announces it in ``{c}inbox/``."""
    voter = svc.require(c, credentials, CBPP.vote)
    if not isinstance(body, dict):
        raise BadRequest('send a JSON object: {"ballot": IRI of your opengov:Vote}')
    fields.only(body, {"ballot"})
    iri = fields.iri(body, "ballot", required=True) or ""
    ballot = read_ballot(svc, c, iri)
    if ballot.agent != voter.webid:
        raise Forbidden(
            f"the ballot's schema:agent is {ballot.agent}, not you; vote with a ballot of your own"
        )
    try:
        relative = motion_relative(c, ballot.event)
        motion = read_motion(svc.read_graph(c, relative), c, relative)
    except (BadRequest, NotFound):
        raise UnprocessableContent(
            f"the ballot's opengov:voteEvent {ballot.event} is not a motion of this community"
        ) from None
    if ballot.event != motion.event:
        raise UnprocessableContent(f"the ballot's opengov:voteEvent must be {motion.event}")
    _still_open(motion, svc.clock())
    rule = decision_rule(svc, c, motion.rule)
    if rule.electorate not in voter.roles:
        raise Forbidden(f"only members with the role {rule.electorate} may vote on this motion")
    replaced: list[str] = []

    def record(graph: Graph) -> None:
        _still_open(read_motion(graph, c, relative), svc.clock())  # again, under the lock
        event, person, new = URIRef(motion.event), URIRef(voter.webid), URIRef(ballot.iri)
        for earlier in list(graph.objects(event, OPENGOV.vote)):
            if (earlier, SCHEMA.agent, person) in graph:
                graph.remove((event, OPENGOV.vote, earlier))
                graph.remove((earlier, SCHEMA.agent, None))
                if earlier != new:
                    replaced.append(str(earlier))
        graph.add((event, OPENGOV.vote, new))
        graph.add((new, SCHEMA.agent, person))

    edit_graph(svc.store, c, relative, record)
    now = Literal(timestamp(svc.clock()), datatype=XSD.dateTime)
    svc.post_graph(c, "inbox/", lambda url: announce_graph(url, voter.webid, ballot, now))
    return 200, {"motion": motion.iri, "ballot": ballot.iri, "option": ballot.option, "replaced": replaced}


def announce_graph(url: str, voter: str, ballot: BallotRead, published: Literal) -> Graph:
    """``<> a as:Announce ; as:actor <W> ; as:object <ballot> ; as:target <vote event>``."""
    graph = new_graph()
    me = URIRef(url)
    graph.add((me, RDF.type, AS.Announce))
    graph.add((me, AS.actor, URIRef(voter)))
    graph.add((me, AS.object, URIRef(ballot.iri)))
    graph.add((me, AS.target, URIRef(ballot.event)))
    graph.add((me, AS.published, published))
    return graph


# -- tally ---------------------------------------------------------------------------------
def _require_member(svc: CommunityService, c: Community, credentials: Credentials) -> Member:
    if credentials.webid is None:
        raise Unauthorized("sign in: only members of the community may tally a motion")
    member = svc.member(c, credentials.webid)
    if member is None or not member.active:
        raise Forbidden("only confirmed members of the community may tally a motion")
    return member


def credit_weights(svc: CommunityService, c: Community) -> dict[str, Decimal]:
    """WebID -> ``cbpp:amount`` of its ``cbpp:CreditTotal`` in the latest credit report of
    ``{c}credit/`` (latest ``cbpp:periodEnd``, then latest ``dct:created``). Empty without reports."""
    latest: tuple[str, str, Graph] | None = None
    for child in svc.store.read_container(c.path_of("credit/")).children:
        if child.is_container:
            continue
        try:
            graph = svc.read_graph(c, child.path.removeprefix(c.path))
        except PodError:
            continue  # not RDF: not a report
        for report in graph.subjects(RDF.type, CBPP.CreditReport):
            key = (
                _instant(graph.value(report, CBPP.periodEnd)),
                _instant(graph.value(report, DCTERMS.created)),
            )
            if latest is None or key > latest[:2]:
                latest = (*key, graph)
    if latest is None:
        return {}
    graph = latest[2]
    weights: dict[str, Decimal] = {}
    for total in graph.subjects(RDF.type, CBPP.CreditTotal):
        receiver, amount = graph.value(total, VF.receiver), graph.value(total, CBPP.amount)
        try:
            value = Decimal(str(amount)) if isinstance(amount, Literal) else None
        except ArithmeticError:
            value = None
        if isinstance(receiver, URIRef) and value is not None and value.is_finite():
            weights[str(receiver)] = value
    return weights


def _instant(value: Node | None) -> str:
    """A sortable form of an xsd:dateTime literal (UTC ISO 8601), ``""`` when absent or not one."""
    parsed = value.toPython() if isinstance(value, Literal) else None
    if isinstance(parsed, datetime) and parsed.tzinfo is not None:
        return timestamp(parsed)
    return ""


@dataclass(frozen=True)
class Count:
    """What a tally read: ballots counted and ballots left out (IRI -> why)."""

    ballots: list[Ballot]
    used: list[str]
    dropped: dict[str, str]


def count_ballots(
    svc: CommunityService,
    c: Community,
    motion: Motion,
    electors: set[str],
    weights: Mapping[str, Decimal] | None,
) -> Count:
    """Re-read every recorded ballot as ``C`` and keep one per elector (see module docstring).
    ``weights`` (credit-weighted rules) gives each voter ``max(1, amount)``; ``None`` means 1 each."""
    counted: list[Ballot] = []
    used: list[str] = []
    dropped: dict[str, str] = {}
    voters: set[str] = set()
    for iri, recorded_voter in sorted(motion.ballots.items()):
        try:
            ballot = read_ballot(svc, c, iri)
        except UnprocessableContent as e:
            dropped[iri] = e.detail
            continue
        problem = None
        if ballot.event != motion.event:
            problem = "it no longer points at this vote event"
        elif ballot.agent != recorded_voter:
            problem = "its schema:agent is no longer the voter who cast it"
        elif ballot.agent not in electors:
            problem = "its voter is no longer a confirmed member of the electorate"
        elif ballot.agent in voters:
            problem = "its voter has another ballot counted"
        if problem is not None:
            dropped[iri] = problem
            continue
        voters.add(ballot.agent)
        weight = Decimal(1) if weights is None else max(Decimal(1), weights.get(ballot.agent, Decimal(1)))
        counted.append(Ballot(ballot.agent, ballot.option, weight))
        used.append(iri)
    return Count(counted, used, dropped)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _count_literal(value: Decimal, rule: DecisionRule) -> Literal:
    if rule.weighting == CBPP.OneMemberOneVote:
        return Literal(int(value), datatype=XSD.integer)
    return Literal(str(value), datatype=XSD.decimal)


def decision_graph(
    c: Community,
    motion: Motion,
    rule: DecisionRule,
    outcome: Outcome,
    count: Count,
    *,
    tallied_by: str,
    now: datetime,
) -> Graph:
    """``{c}decisions/{id}`` (model §7)."""
    graph = new_graph()
    graph.bind("opengov", OPENGOV._NS)
    graph.bind("schema", SCHEMA._NS)
    event = URIRef(c.at(motion.decision_relative) + EVENT_FRAGMENT)
    graph.add((event, RDF.type, OPENGOV.VoteEvent))
    graph.add((event, RDF.type, PROV.Activity))
    graph.add((event, OPENGOV.motion, URIRef(motion.iri)))
    graph.add((event, OPENGOV.result, Literal(outcome.result)))
    for option in OPTIONS:
        node = BNode()
        graph.add((event, OPENGOV.count, node))
        graph.add((node, SCHEMA.option, Literal(option)))
        graph.add((node, RDF.value, _count_literal(outcome.counts[option], rule)))
    graph.add((event, CBPP.electorateSize, Literal(outcome.electorate, datatype=XSD.integer)))
    graph.add((event, DCTERMS.conformsTo, URIRef(rule.iri)))
    for ballot in count.used:
        graph.add((event, PROV.used, URIRef(ballot)))
    graph.add((event, PROV.wasAssociatedWith, URIRef(tallied_by)))
    graph.add((event, PROV.endedAtTime, Literal(timestamp(now), datatype=XSD.dateTime)))
    graph.add((event, RDFS.comment, Literal(outcome.reason)))
    for ballot, why in sorted(count.dropped.items()):
        graph.add((event, RDFS.comment, Literal(f"not counted: {ballot}: {why}")))
    return graph


def tally(
    svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """``POST {c}.well-known/community/tally``: 201 ``{"decision", "result", "counts", ...}``.

    Any confirmed member. 409 while the vote is open and not every elector has voted, and when the
    motion is already decided. Writes ``{c}decisions/{id}`` and, if the motion passed, carries out
    its effect (``effect.applied`` false with the problem when the world moved on meanwhile)."""
    member = _require_member(svc, c, credentials)
    if not isinstance(body, dict):
        raise BadRequest('send a JSON object: {"motion": IRI of the motion}')
    fields.only(body, {"motion"})
    relative = motion_relative(c, fields.iri(body, "motion", required=True) or "")
    motion = read_motion(svc.read_graph(c, relative), c, relative)
    if motion.decided_by is not None:
        raise Conflict(f"the motion {motion.iri} is already decided: {motion.decided_by}")
    rule = decision_rule(svc, c, motion.rule)
    electors = {m.webid for m in svc.roster(c) if m.active and rule.electorate in m.roles}
    weights = credit_weights(svc, c) if rule.weighting == CBPP.CreditWeighted else None
    count = count_ballots(svc, c, motion, electors, weights)
    now = svc.clock()
    voted = {b.voter for b in count.ballots}
    if now < motion.closes and not (electors and electors <= voted):
        raise Conflict(
            f"voting on {motion.iri} is open until {timestamp(motion.closes)}; "
            f"{len(voted)} of {len(electors)} electors have voted. Tally once it closes or everyone voted"
        )
    outcome = decide(rule, len(electors), count.ballots)
    decision_url = c.at(motion.decision_relative)
    _claim(svc, c, motion, decision_url)
    try:
        svc.write_graph(
            c,
            motion.decision_relative,
            decision_graph(c, motion, rule, outcome, count, tallied_by=member.webid, now=now),
        )
    except Exception:
        _unclaim(svc, c, motion, decision_url)
        raise
    event = decision_url + EVENT_FRAGMENT
    effect: dict[str, Any] | None = None
    if outcome.passed and motion.effect is not None:
        effect = _carry_out(svc, c, motion, event)
    return 201, {
        "decision": event,
        "motion": motion.iri,
        "result": outcome.result,
        "counts": {option: _number(outcome.counts[option]) for option in OPTIONS},
        "electorate": outcome.electorate,
        "voters": outcome.voters,
        "reason": outcome.reason,
        "not_counted": count.dropped,
        "effect": effect,
    }


def _claim(svc: CommunityService, c: Community, motion: Motion, decision_url: str) -> None:
    """Mark the motion's vote event as ended by the decision, atomically: the one tally that
    gets here first decides; any other gets 409."""

    def mark(graph: Graph) -> None:
        current = read_motion(graph, c, motion.relative)
        if current.decided_by is not None:
            raise Conflict(f"the motion {motion.iri} is already decided: {current.decided_by}")
        graph.add((URIRef(motion.event), PROV.wasEndedBy, URIRef(decision_url)))

    edit_graph(svc.store, c, motion.relative, mark)


def _unclaim(svc: CommunityService, c: Community, motion: Motion, decision_url: str) -> None:
    def unmark(graph: Graph) -> None:
        graph.remove((URIRef(motion.event), PROV.wasEndedBy, URIRef(decision_url)))

    edit_graph(svc.store, c, motion.relative, unmark)


def _carry_out(svc: CommunityService, c: Community, motion: Motion, event: str) -> dict[str, Any]:
    """Apply the passed motion's effect; a failure is recorded on the decision, not raised (the
    decision stands either way)."""
    graph = svc.read_graph(c, motion.relative)
    assert motion.effect is not None
    try:
        changed = apply_effect(svc, c, graph, motion.effect, event)
    except PodError as e:
        problem = e.detail

        def note(decision: Graph) -> None:
            comment = Literal(f"the effect was not carried out: {problem}")
            decision.add((URIRef(event), RDFS.comment, comment))

        edit_graph(svc.store, c, motion.decision_relative, note)
        return {"applied": False, "problem": problem}
    return {"applied": True, "changed": changed}


__all__ = [
    "DECISIONS",
    "EVENT_FRAGMENT",
    "MOTION_FRAGMENT",
    "PROPOSALS",
    "BallotRead",
    "Count",
    "Motion",
    "announce_graph",
    "count_ballots",
    "credit_weights",
    "decision_graph",
    "decision_rule",
    "motion_graph",
    "motion_relative",
    "propose",
    "read_ballot",
    "read_motion",
    "role_names",
    "tally",
    "vote",
]
