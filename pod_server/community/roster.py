"""Who is a member: confirming two-sided memberships, and the groups derived from them.

Contract §4: a membership is **confirmed** iff its community half exists, has not ended and
links (``rdfs:seeAlso``) the member half's node; and the member half, read as the community
agent ``C``, is inside one of the ``pim:storage`` containers W's WebID profile names (Solid
Protocol §4.1: a storage is where W's data lives, so nobody else can write there) and says
``org:member W``, ``org:organization C`` and ``rdfs:seeAlso`` the community half's node.
Everything else is a claim. Groups (``vcard:Group``, WAC §4.3 agent groups) list confirmed
members only, and are rewritten from the roster, never edited by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urldefrag

from rdflib import Graph, URIRef

from pod_server.community.agent import CommunityAgent
from pod_server.community.halves import Half
from pod_server.community.layout import new_graph
from pod_server.community.model import Community, Member
from pod_server.errors import UnprocessableContent
from pod_server.vocab import ORG, PIM, PROV, RDF, RDFS, VCARD


def check_member_half(agent: CommunityAgent, c: Community, webid: str, member_half: str) -> str | None:
    """Why the member half at ``member_half`` (a node IRI) does not confirm ``webid``'s
    membership of ``c``, or ``None`` when it does. Reads the half and W's profile as ``C``."""
    document, fragment = urldefrag(member_half)
    if not fragment:
        return f"the member half {member_half} is a document URL; send its node IRI (…#membership)"
    try:
        half = agent.graph(c.webid, member_half)
        profile = agent.graph(c.webid, webid)
    except UnprocessableContent as exc:
        return exc.detail
    node, me = URIRef(member_half), URIRef(webid)
    expected = c.half_of(webid)
    if (node, ORG.member, me) not in half or len(set(half.objects(node, ORG.member))) != 1:
        return f"the member half {member_half} does not say org:member <{webid}> (and nobody else)"
    if (node, ORG.organization, URIRef(c.webid)) not in half:
        return f"the member half {member_half} does not say org:organization <{c.webid}>"
    if set(half.objects(node, RDFS.seeAlso)) != {URIRef(expected)}:
        return f"the member half {member_half} must say rdfs:seeAlso <{expected}> (and nothing else)"
    storages = [str(s) for s in profile.objects(me, PIM.storage) if isinstance(s, URIRef)]
    if not any(s.endswith("/") and document.startswith(s) for s in storages):
        return (
            f"the member half {member_half} is not inside a pim:storage of {webid}; "
            "write it in your own pod (e.g. {your pod}memberships/...)"
        )
    return None


def member_of(agent: CommunityAgent, c: Community, half: Half) -> Member:
    """The roster entry of one community half, confirmed or not (see the module docstring)."""
    problem: str | None = None
    confirmed = False
    if half.ended:
        problem = "the membership has ended"
    elif half.member_half is not None:
        problem = check_member_half(agent, c, half.webid, half.member_half)
        confirmed = problem is None
    return Member(
        webid=half.webid,
        roles=half.roles,
        confirmed=confirmed,
        ended=half.ended,
        community_half=half.node,
        member_half=half.member_half,
        since=half.since,
        problem=problem,
    )


def group_graph(c: Community, name: str, webids: Iterable[str]) -> Graph:
    """``{c}groups/{name}``: ``<#group> a vcard:Group; vcard:hasMember W*; prov:wasDerivedFrom
    <{c}members/>`` (the members group, or a role's group)."""
    graph = new_graph()
    group = URIRef(c.group(name))
    graph.add((group, RDF.type, VCARD.Group))
    graph.add((group, PROV.wasDerivedFrom, URIRef(c.at("members/"))))
    for webid in sorted(set(webids)):
        graph.add((group, VCARD.hasMember, URIRef(webid)))
    return graph


def groups(c: Community, roster: Iterable[Member], role_names: dict[str, str]) -> dict[str, Graph]:
    """Group name -> its document, for ``members`` and every role but ``member``
    (``role_names``: role IRI -> name)."""
    active = [m for m in roster if m.active]
    out = {"members": group_graph(c, "members", (m.webid for m in active))}
    for iri, name in role_names.items():
        if name != "member":
            out[name] = group_graph(c, name, (m.webid for m in active if iri in m.roles))
    return out


__all__ = ["check_member_half", "group_graph", "groups", "member_of"]
