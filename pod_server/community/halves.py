"""The community half of a membership (model §4): ``{c}members/{key}``, node ``#membership``.

::

    <#membership> a org:Membership ; org:member <W> ; org:organization <C> ;
      org:role <{c}roles#member> , ... ;
      rdfs:seeAlso <member half node> ;        # absent while only invited
      org:memberDuring <#during> ;
      prov:wasGeneratedBy <#invite> ;          # or <#accept>, a decision event, the founding
      prov:wasInvalidatedBy <#leave> .         # once ended (or the decision that removed W)
    <#during> a time:Interval ;
      time:hasBeginning [ a time:Instant ; time:inXSDDateTimeStamp "..."^^xsd:dateTimeStamp ] ;
      time:hasEnd [ a time:Instant ; time:inXSDDateTimeStamp "..."^^xsd:dateTimeStamp ] .
    <#invite> a as:Invite ; as:actor <admin W> ; as:object <#membership> ; as:published "..." .

W3C ORG §5.4 (org:Membership, org:memberDuring), OWL-Time §4 (intervals and instants), PROV-O
(wasGeneratedBy, wasInvalidatedBy), Activity Streams 2.0 vocabulary §3.1 (Invite, Accept, Leave).
Only the server writes these documents; their nodes are absolute IRIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pod_server.community.layout import new_graph
from pod_server.community.model import MEMBERSHIP_FRAGMENT, Community
from pod_server.vocab import AS, ORG, PROV, RDF, RDFS, TIME, XSD


def timestamp(now: datetime) -> str:
    """An ``xsd:dateTimeStamp`` lexical form in UTC, to the second: ``2026-11-03T16:00:00Z``."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(graph: Graph, now: datetime) -> BNode:
    instant = BNode()
    graph.add((instant, RDF.type, TIME.Instant))
    graph.add((instant, TIME.inXSDDateTimeStamp, Literal(timestamp(now), datatype=XSD.dateTimeStamp)))
    return instant


def document_of(node: str) -> str:
    """``{c}members/{key}`` for ``{c}members/{key}#membership``."""
    return node.split("#", 1)[0]


@dataclass(frozen=True)
class Half:
    """A community half as read from its document."""

    node: str
    webid: str
    roles: frozenset[str]
    member_half: str | None
    since: str | None
    ended: bool


def parse_half(c: Community, url: str, graph: Graph) -> Half | None:
    """The community half in ``graph`` (the document at ``url``), or ``None`` when the document
    holds no membership of ``C`` (never written by this server, or mangled)."""
    node = URIRef(url + MEMBERSHIP_FRAGMENT)
    if (node, RDF.type, ORG.Membership) not in graph or (
        node,
        ORG.organization,
        URIRef(c.webid),
    ) not in graph:
        return None
    members = [m for m in graph.objects(node, ORG.member) if isinstance(m, URIRef)]
    if len(members) != 1:
        return None
    see_also = [s for s in graph.objects(node, RDFS.seeAlso) if isinstance(s, URIRef)]
    during = graph.value(node, ORG.memberDuring)
    since: str | None = None
    ended = False
    if during is not None:
        start = graph.value(during, TIME.hasBeginning)
        stamp = graph.value(start, TIME.inXSDDateTimeStamp) if start is not None else None
        since = str(stamp) if stamp is not None else None
        ended = graph.value(during, TIME.hasEnd) is not None
    return Half(
        node=str(node),
        webid=str(members[0]),
        roles=frozenset(str(r) for r in graph.objects(node, ORG.role) if isinstance(r, URIRef)),
        member_half=str(see_also[0]) if len(see_also) == 1 else None,
        since=since,
        ended=ended,
    )


def half_graph(
    c: Community,
    webid: str,
    roles: frozenset[str],
    *,
    generated_by: str,
    now: datetime,
    member_half: str | None = None,
    actor: str | None = None,
) -> Graph:
    """A new community half. ``generated_by`` is an IRI (a decision event, the founding) or a
    fragment of this document: ``#invite`` or ``#accept``, then described as an ``as:Invite`` /
    ``as:Accept`` by ``actor`` (model §4)."""
    node = URIRef(c.half_of(webid))
    document = document_of(str(node))
    graph = new_graph()
    graph.bind("time", TIME._NS)
    graph.add((node, RDF.type, ORG.Membership))
    graph.add((node, ORG.member, URIRef(webid)))
    graph.add((node, ORG.organization, URIRef(c.webid)))
    for role in sorted(roles):
        graph.add((node, ORG.role, URIRef(role)))
    if member_half is not None:
        graph.add((node, RDFS.seeAlso, URIRef(member_half)))
    during = URIRef(document + "#during")
    graph.add((node, ORG.memberDuring, during))
    graph.add((during, RDF.type, TIME.Interval))
    graph.add((during, TIME.hasBeginning, _instant(graph, now)))
    if generated_by.startswith("#"):
        kinds = {"#invite": AS.Invite, "#accept": AS.Accept}
        if generated_by not in kinds or actor is None:
            raise ValueError(f"generated_by {generated_by!r} needs to be #invite or #accept with an actor")
        activity = URIRef(document + generated_by)
        describe(graph, activity, kinds[generated_by], actor=actor, obj=node, now=now)
        graph.add((node, PROV.wasGeneratedBy, activity))
    else:
        graph.add((node, PROV.wasGeneratedBy, URIRef(generated_by)))
    return graph


def describe(graph: Graph, activity: URIRef, kind: URIRef, *, actor: str, obj: Node, now: datetime) -> None:
    """``<activity> a kind ; as:actor <actor> ; as:object obj ; as:published now``."""
    graph.add((activity, RDF.type, kind))
    graph.add((activity, AS.actor, URIRef(actor)))
    graph.add((activity, AS.object, obj))
    graph.add((activity, AS.published, Literal(timestamp(now), datatype=XSD.dateTime)))


def confirmed_graph(graph: Graph, half: Half, member_half: str, *, actor: str, now: datetime) -> Graph:
    """``graph`` (a copy) with the member half linked and an ``<#accept>`` by ``actor``."""
    out = new_graph()
    out.bind("time", TIME._NS)
    for triple in graph:
        out.add(triple)
    node = URIRef(half.node)
    out.remove((node, RDFS.seeAlso, None))
    out.add((node, RDFS.seeAlso, URIRef(member_half)))
    accept = URIRef(document_of(half.node) + "#accept")
    out.remove((accept, None, None))
    describe(out, accept, AS.Accept, actor=actor, obj=node, now=now)
    return out


def ended_graph(
    graph: Graph, half: Half, *, ended_by: URIRef, kind: URIRef | None, actor: str | None, now: datetime
) -> Graph:
    """``graph`` (a copy) with ``time:hasEnd`` (an instant ``prov:wasGeneratedBy <ended_by>``) and
    ``prov:wasInvalidatedBy <ended_by>``; when
    ``kind`` is given, ``ended_by`` is described as that activity (``as:Leave``) by ``actor``."""
    out = new_graph()
    out.bind("time", TIME._NS)
    for triple in graph:
        out.add(triple)
    node = URIRef(half.node)
    during = out.value(node, ORG.memberDuring)
    if during is None:
        during = URIRef(document_of(half.node) + "#during")
        out.add((node, ORG.memberDuring, during))
        out.add((during, RDF.type, TIME.Interval))
    end = _instant(out, now)
    out.add((during, TIME.hasEnd, end))
    # PROV-O §3.1: the membership is invalidated by what ended it, and the end itself is that
    # activity's outcome (a decision's effects carry prov:wasGeneratedBy the decision, issue 8).
    out.add((node, PROV.wasInvalidatedBy, ended_by))
    out.add((end, PROV.wasGeneratedBy, ended_by))
    if kind is not None and actor is not None:
        # AS 2.0 vocabulary §3.1 Leave: the actor has left the object (the community).
        organization = out.value(node, ORG.organization)
        describe(out, ended_by, kind, actor=actor, obj=organization or node, now=now)
    return out


__all__ = [
    "Half",
    "confirmed_graph",
    "describe",
    "document_of",
    "ended_graph",
    "half_graph",
    "parse_half",
    "timestamp",
]
