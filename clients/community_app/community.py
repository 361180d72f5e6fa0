"""The community's profile and its members (docs/community-model.md §3, §4, §5).

Members come from ``GET {c}.well-known/community`` when the server offers it (it checks both
halves of every membership as the community); otherwise from the plain resources: the community
halves in ``{c}members/`` and the derived group ``{c}groups/members#group``, which lists only
confirmed members (§4), so "in the group and not ended" is "confirmed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pod_client.vocab import CBPP, DCTERMS, FOAF, ORG, RDFS, TIME, VCARD
from rdflib import URIRef

from community_app.fetch import Reader, ReadError
from community_app.rdf import children, iri, iris, local_name, one, text, typed, within


@dataclass(frozen=True)
class Profile:
    """``{c}profile/card#me`` and where the community keeps its data (always inside ``url``)."""

    url: str
    webid: str
    name: str
    description: str | None = None
    mission: str | None = None
    homepages: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    member_group: str = ""
    members: str = ""
    contributions: str = ""
    ledger: str = ""
    proposals: str = ""
    decisions: str = ""
    credit: str = ""


def read_profile(reader: Reader, community: str) -> Profile:
    """The community's profile. Raises :class:`ReadError` when it cannot be read at all; a profile
    without the community terms still works (names fall back, containers take their usual places)."""
    webid = community + "profile/card#me"
    graph = reader.graph(webid)
    me = URIRef(webid)

    def place(predicate: URIRef, name: str) -> str:
        return within(community, iri(graph, me, predicate), community + name)

    group = iri(graph, me, CBPP.memberGroup)
    return Profile(
        url=community,
        webid=webid,
        name=text(graph, me, FOAF.name) or text(graph, me, VCARD.fn) or local_name(community),
        description=text(graph, me, DCTERMS.description),
        mission=text(graph, me, CBPP.mission),
        homepages=tuple(u for u in iris(graph, me, FOAF.homepage) if u.startswith(("https://", "http://"))),
        links=tuple(u for u in iris(graph, me, RDFS.seeAlso) if u.startswith(("https://", "http://"))),
        member_group=group if group and group.startswith(community) else community + "groups/members#group",
        members=community + "members/",  # §3: the profile does not name it
        contributions=place(CBPP.contributions, "contributions/"),
        ledger=place(CBPP.ledger, "ledger/"),
        proposals=place(CBPP.proposals, "proposals/"),
        decisions=place(CBPP.decisions, "decisions/"),
        credit=place(CBPP.creditReports, "credit/"),
    )


@dataclass(frozen=True)
class Member:
    webid: str
    roles: tuple[str, ...]
    """Role names (``admin``, ``member``...)."""
    confirmed: bool
    since: str | None = None
    membership: str | None = None
    name: str | None = None


@dataclass
class Roster:
    members: list[Member] = field(default_factory=list)
    """Confirmed members."""
    pending: list[Member] = field(default_factory=list)
    """Invited or claimed, not (yet) confirmed by both halves."""
    source: str = ""
    problems: list[str] = field(default_factory=list)


def _http(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _from_json(entry: Any, confirmed: bool) -> Member | None:
    if not isinstance(entry, dict) or _http(entry.get("webid")) is None:
        return None
    roles = entry.get("roles")
    names = tuple(local_name(r) for r in roles if isinstance(r, str)) if isinstance(roles, list) else ()
    since = entry.get("since")
    flag = entry.get("confirmed")
    return Member(
        webid=str(entry["webid"]),
        roles=tuple(sorted(set(names))),
        confirmed=flag if isinstance(flag, bool) else confirmed,
        since=since if isinstance(since, str) else None,
        membership=_http(entry.get("membership")),
    )


def _roster_json(reader: Reader, profile: Profile) -> Roster | None:
    """§5 ``GET {c}.well-known/community``, or ``None`` when the server does not offer it."""
    try:
        body = reader.json(profile.url + ".well-known/community")
    except ReadError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("members"), list):
        return None
    roster = Roster(source="the community's roster")
    for entry in body["members"]:
        member = _from_json(entry, True)
        if member is not None:
            (roster.members if member.confirmed else roster.pending).append(member)
    pending = body.get("pending")
    for entry in pending if isinstance(pending, list) else []:
        member = _from_json(entry, False)
        if member is not None:
            roster.pending.append(member)
    return roster


def _roster_rdf(reader: Reader, profile: Profile, limit: int) -> Roster:
    roster = Roster(source="the community's membership records")
    group: set[str] = set()
    try:
        graph = reader.graph(profile.member_group)
        group = set(iris(graph, URIRef(profile.member_group), VCARD.hasMember))
    except ReadError as exc:
        roster.problems.append(f"The members group could not be read: {exc.message}")
    halves: dict[str, Member] = {}
    try:
        urls = children(reader, profile.members, limit)
    except ReadError as exc:
        roster.problems.append(f"The membership records could not be read: {exc.message}")
        urls = []
    for url in urls:
        try:
            graph = reader.graph(url)
        except ReadError as exc:
            roster.problems.append(exc.message)
            continue
        for node in typed(graph, ORG.Membership):
            webid = iri(graph, node, ORG.member)
            if webid is None:
                continue
            during = one(graph, node, ORG.memberDuring)
            ended = during is not None and one(graph, during, TIME.hasEnd) is not None
            if ended:
                continue
            begin = one(graph, during, TIME.hasBeginning) if during is not None else None
            since = text(graph, begin, TIME.inXSDDateTimeStamp) if begin is not None else None
            roles = tuple(sorted({local_name(r) for r in iris(graph, node, ORG.role)}))
            halves[webid] = Member(webid, roles, webid in group, since, str(node))
    for webid in sorted(group - halves.keys()):
        halves[webid] = Member(webid, (), True)
    for member in sorted(halves.values(), key=lambda m: m.webid):
        (roster.members if member.confirmed else roster.pending).append(member)
    return roster


def display_name(reader: Reader, webid: str) -> str | None:
    """``foaf:name`` or ``vcard:fn`` from the WebID's profile, when the visitor may read it."""
    try:
        graph = reader.graph(webid)
    except ReadError:
        return None
    me = URIRef(webid)
    return text(graph, me, FOAF.name) or text(graph, me, VCARD.fn)


def read_roster(reader: Reader, profile: Profile, limit: int = 200) -> Roster:
    """Confirmed and pending members, with names from their profiles where readable."""
    roster = _roster_json(reader, profile) or _roster_rdf(reader, profile, limit)

    def named(members: list[Member]) -> list[Member]:
        return [
            Member(m.webid, m.roles, m.confirmed, m.since, m.membership, display_name(reader, m.webid))
            for m in members[:limit]
        ]

    roster.members, roster.pending = named(roster.members), named(roster.pending)
    return roster


__all__ = ["Member", "Profile", "Roster", "display_name", "read_profile", "read_roster"]
