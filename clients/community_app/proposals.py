"""Open motions (docs/community-model.md §7): ``{c}proposals/{id}`` whose vote event has not ended
and that no decision in ``{c}decisions/`` has tallied; each with the ballots recorded so far,
read with the visitor's session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from pod_client.vocab import CBPP, DCTERMS, OPENGOV, RDF, SCHEMA
from rdflib import Graph, URIRef
from rdflib.term import Node

from community_app.community import Profile
from community_app.fetch import Reader, ReadError
from community_app.rdf import children, instant, iri, iris, local_name, number, one, text, typed


@dataclass(frozen=True)
class Ballot:
    iri: str
    visible: bool
    option: str | None = None
    voter: str | None = None


@dataclass(frozen=True)
class Motion:
    iri: str
    title: str
    description: str | None
    creator: str | None
    created: str | None
    effect: str | None
    opens: str | None
    closes: str | None
    ballots: tuple[Ballot, ...]


@dataclass
class Proposals:
    open: list[Motion] = field(default_factory=list)
    closed: int = 0
    problems: list[str] = field(default_factory=list)


def _figure(graph: Graph, node: Node, predicate: URIRef) -> str | None:
    value = number(one(graph, node, predicate))
    return f"{value:g}" if value is not None else None


def describe_effect(graph: Graph, effect: Node) -> str:
    """Plain words for what a motion does when it passes."""
    member = iri(graph, effect, CBPP.member)
    rule = one(graph, effect, CBPP.rule)
    if (effect, RDF.type, CBPP.RemoveMember) in graph:
        return f"Remove {member or 'a member'} from the community"
    if (effect, RDF.type, CBPP.AdmitMember) in graph:
        role = iri(graph, effect, CBPP.role)
        return f"Admit {member or 'someone'} as {local_name(role) if role else 'member'}"
    if (effect, RDF.type, CBPP.AdoptValueRule) in graph and rule is not None:
        parts = [f"Adopt the value rule “{text(graph, rule, DCTERMS.title) or 'untitled'}”"]
        rate = _figure(graph, rule, CBPP.creditPerHour)
        if rate:
            parts.append(f"{rate} credit per hour")
        weights = []
        for weight in graph.objects(rule, CBPP.kindWeight):
            kind, value = iri(graph, weight, CBPP.kind), _figure(graph, weight, CBPP.weight)
            if kind and value:
                weights.append(f"{local_name(kind)} x{value}")
        if weights:
            parts.append("weights " + ", ".join(sorted(weights)))
        cap = _figure(graph, rule, CBPP.capPerPeriod)
        if cap:
            parts.append(f"at most {cap} per {text(graph, rule, CBPP.period) or 'period'}")
        return parts[0] + (": " + "; ".join(parts[1:]) if parts[1:] else "")
    if (effect, RDF.type, CBPP.AdoptDecisionRule) in graph and rule is not None:
        quorum, threshold = _figure(graph, rule, CBPP.quorum), _figure(graph, rule, CBPP.threshold)
        period = text(graph, rule, CBPP.period)
        return (
            f"Adopt a decision rule: quorum {quorum or '?'}, threshold {threshold or '?'}, "
            f"voting period {period or '?'}"
        )
    return "An effect this app does not know how to describe"


def _ballot(reader: Reader, ballot: str) -> Ballot:
    try:
        graph = reader.graph(ballot)
    except ReadError:
        return Ballot(ballot, False)
    node = URIRef(ballot)
    return Ballot(ballot, True, text(graph, node, SCHEMA.option), iri(graph, node, SCHEMA.agent))


def _decided(reader: Reader, profile: Profile, limit: int, problems: list[str]) -> set[str]:
    """Motions a decision record has tallied."""
    try:
        urls = children(reader, profile.decisions, limit)
    except ReadError as exc:
        if not exc.hidden:
            problems.append(f"The decisions could not be read: {exc.message}")
        return set()
    decided: set[str] = set()
    for url in urls:
        try:
            graph = reader.graph(url)
        except ReadError:
            continue
        decided.update(str(o) for o in graph.objects(None, OPENGOV.motion) if isinstance(o, URIRef))
    return decided


def read_proposals(
    reader: Reader, profile: Profile, now: datetime | None = None, limit: int = 200
) -> Proposals:
    now = now or datetime.now(UTC)
    found = Proposals()
    try:
        urls = children(reader, profile.proposals, limit)
    except ReadError as exc:
        found.problems.append(
            "Proposals are visible to members only; log in as a member to see them."
            if exc.hidden
            else f"The proposals could not be read: {exc.message}"
        )
        return found
    decided = _decided(reader, profile, limit, found.problems)
    ballots_left = limit
    for url in urls:
        try:
            graph = reader.graph(url)
        except ReadError as exc:
            found.problems.append(exc.message)
            continue
        for motion in typed(graph, OPENGOV.Motion):
            events = [
                e for e in graph.subjects(OPENGOV.motion, motion) if (e, RDF.type, OPENGOV.VoteEvent) in graph
            ]
            event = sorted(events, key=str)[0] if events else None
            closes = text(graph, event, SCHEMA.endDate) if event is not None else None
            end = instant(closes)
            if str(motion) in decided or (end is not None and end <= now):
                found.closed += 1
                continue
            votes = iris(graph, event, OPENGOV.vote) if event is not None else ()
            ballots = tuple(_ballot(reader, v) for v in votes[: max(ballots_left, 0)])
            ballots_left -= len(ballots)
            effect = one(graph, motion, CBPP.effect)
            found.open.append(
                Motion(
                    iri=str(motion),
                    title=text(graph, motion, DCTERMS.title) or "(untitled)",
                    description=text(graph, motion, DCTERMS.description),
                    creator=iri(graph, motion, DCTERMS.creator),
                    created=text(graph, motion, DCTERMS.created),
                    effect=describe_effect(graph, effect) if effect is not None else None,
                    opens=text(graph, event, SCHEMA.startDate) if event is not None else None,
                    closes=closes,
                    ballots=ballots,
                )
            )
    found.open.sort(key=lambda m: (instant(m.closes) or now, m.iri))
    return found


__all__ = ["Ballot", "Motion", "Proposals", "describe_effect", "read_proposals"]
