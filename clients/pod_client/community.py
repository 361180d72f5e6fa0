"""Communities from the member's side (docs/communities.md): found one, join, contribute, review,
propose and vote.

A community is a pod (``{c}``) whose WebID ``{c}profile/card#me`` is the community's own agent.
Everything a member says lives in the member's own pod and is *linked* from the community; the
community's pod holds only what the community says. :class:`Community` writes the member's side
with plain Solid requests and calls the community's JSON endpoints
(``{c}.well-known/community/<action>``, model §5) for the rest:

- **Membership has two halves** (model §4). The member half, ``{m}memberships/{ckey}`` (node
  ``#membership``, ``ckey`` = :func:`key_of` the community's WebID), says "I am a member of C" and
  points (``rdfs:seeAlso``) at the community half ``{c}members/{key}#membership`` (``key`` =
  :func:`key_of` the member's WebID). Both URLs are predictable, so the member half is always
  written *first*, then the community is asked to write its half. The member half is readable by
  the community's agent (it checks it) and nobody else but its owner.
- **Contributions** (model §6) are ValueFlows economic events in ``{m}contributions/``, each
  with an ACL that gives the chosen :data:`VISIBILITY`; they are announced to the community with an
  ``as:Announce`` in ``{c}contributions/``.
- **Ballots** (model §7) are ``opengov:Vote`` documents in ``{m}votes/``, readable by the
  community; the community records a ballot by reference, and a later ballot replaces an earlier one.

The member-side containers this module creates declare the shape their documents must conform to
(``ldp:constrainedBy`` in the container's description resource, model §2), so a server that
validates them refuses a malformed document before it is stored.

Failures raise :mod:`pod_client.errors`; the community endpoints answer RFC 9457 problem+json, whose
``detail`` becomes the exception's message (422, "does not agree / does not conform", is a plain
:class:`pod_client.errors.PodClientError` with ``status`` 422).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pod_client import profile
from pod_client.acl import acl_url
from pod_client.digest import content_digest
from pod_client.errors import Forbidden, NotAuthenticated, NotFound, PodClientError, raise_for_status
from pod_client.links import link, without_query
from pod_client.pod import Pod, essence
from pod_client.session import Session
from pod_client.vocab import (
    ACL,
    AS,
    CBPP,
    DCTERMS,
    FOAF,
    KIND,
    LDP,
    OM,
    OPENGOV,
    ORG,
    RDF,
    RDFS,
    SCHEMA,
    SHAPES,
    VF,
    XSD,
)

WELL_KNOWN = ".well-known/community"
"""Where a community pod answers its JSON endpoints (model §5), relative to ``{c}``."""
COMMUNITIES = ".communities"
"""``POST {base}.communities`` founds a community (model §5), relative to the server's base."""
JSON = "application/json"
TURTLE = "text/turtle"

VISIBILITY: dict[str, URIRef] = {
    "private": CBPP.Private,
    "community": CBPP.CommunityOnly,
    "public": CBPP.Public,
}
"""Visibility names (CLI ``--visibility``) -> terms (model §6). Enforced by each document's ACL:
private = its owner only; community = Read for the community's agent and its members group;
public = Read for everyone."""

ACTIONS: dict[str, URIRef] = {
    "work": VF.work,
    "deliver-service": VF.deliverService,
    "produce": VF.produce,
    "cite": VF.cite,
}
"""Contribution actions (ValueFlows ``vf:action``, model §6) by name."""

VOTE_OPTIONS = ("yes", "no", "abstain")
"""What a ballot's ``schema:option`` may say (model §7)."""

_UNREADABLE = (Forbidden, NotAuthenticated, NotFound)
_UNSAFE_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


# -- names and keys ----


def key_of(iri: str) -> str:
    """The first 24 hex characters of sha256(``iri`` as UTF-8): the name of a membership half
    (model §3: ``{c}members/{key_of(W)}``; §4: ``{m}memberships/{key_of(C)}``)."""
    return hashlib.sha256(iri.encode("utf-8")).hexdigest()[:24]


def community_root(url: str) -> str:
    """The community pod root ``{c}`` from any URL of the community: ``{c}`` itself (with or
    without the final "/"), its WebID ``{c}profile/card#me``, or ``{c}.well-known/community``."""
    bare = urldefrag(url)[0]
    for suffix in ("profile/card", WELL_KNOWN):
        if bare.endswith(suffix):
            bare = bare[: -len(suffix)]
    return bare if bare.endswith("/") else bare + "/"


def community_of_motion(url: str) -> str:
    """The community pod root ``{c}`` of a motion ``{c}proposals/{id}`` (or its ``#motion`` /
    ``#event``). ``ValueError`` for a URL that is not inside a ``proposals/`` container."""
    path = urlsplit(urldefrag(url)[0]).path
    if "/proposals/" not in path:
        raise ValueError(f"{url} is not a motion: motions are at {{community}}proposals/{{id}}")
    bare = urldefrag(url)[0]
    return bare[: bare.rindex("/proposals/") + 1]


def motion_iri(url: str) -> str:
    """The motion's node IRI, ``{c}proposals/{id}#motion``, from the document, the motion or its
    vote event (model §7)."""
    return urldefrag(url)[0] + "#motion"


def event_iri(url: str) -> str:
    """The motion's vote event, ``{c}proposals/{id}#event`` (what a ballot's
    ``opengov:voteEvent`` names)."""
    return urldefrag(url)[0] + "#event"


def contribution_iri(url: str) -> str:
    """A contribution's node IRI: ``url`` as given when it has a fragment, else ``url#it``."""
    return url if "#" in url else url + "#it"


def now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> Literal:
    """``moment`` (made UTC) as an ``xsd:dateTimeStamp`` (model §6: times carry a zone)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone: give one (e.g. ...Z)")
    text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return Literal(text, datatype=XSD.dateTimeStamp)


# -- what the community says ----


@dataclass(frozen=True)
class MemberInfo:
    """One person on a community's roster (``GET {c}.well-known/community``). ``roles`` are role
    names (``"member"``, ``"admin"``, ...); ``confirmed`` is whether both halves agree (model
    §4); ``membership`` the community half's URL."""

    webid: str
    roles: tuple[str, ...]
    confirmed: bool
    since: str | None
    membership: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemberInfo:
        roles = data.get("roles") or ()
        return cls(
            webid=str(data.get("webid", "")),
            roles=tuple(str(r) for r in roles),
            confirmed=bool(data.get("confirmed", False)),
            since=str(data["since"]) if data.get("since") else None,
            membership=str(data["membership"]) if data.get("membership") else None,
        )


@dataclass(frozen=True)
class CommunityInfo:
    """A community's public description: the JSON roster and the profile (model §3, §5)."""

    url: str
    webid: str
    name: str | None
    description: str | None
    mission: str | None
    homepages: tuple[str, ...]
    value_rule: str | None
    decision_rule: str | None
    inbox: str
    members: tuple[MemberInfo, ...]
    pending: tuple[MemberInfo, ...]
    profile: Graph = field(repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        def member(m: MemberInfo) -> dict[str, Any]:
            return {
                "webid": m.webid,
                "roles": list(m.roles),
                "confirmed": m.confirmed,
                "since": m.since,
                "membership": m.membership,
            }

        return {
            "url": self.url,
            "community": self.webid,
            "name": self.name,
            "description": self.description,
            "mission": self.mission,
            "homepages": list(self.homepages),
            "value_rule": self.value_rule,
            "decision_rule": self.decision_rule,
            "inbox": self.inbox,
            "members": [member(m) for m in self.members],
            "pending": [member(m) for m in self.pending],
        }


@dataclass(frozen=True)
class Contribution:
    """A contribution as read from its author's pod (model §6). ``iri`` is the node
    (``...#it``); ``hours`` the effort in hours (minutes converted), ``None`` without one;
    ``when`` the ``vf:hasPointInTime`` (else ``vf:hasEnd``) as written."""

    iri: str
    provider: str | None
    receiver: str | None
    action: str | None
    kinds: tuple[str, ...]
    hours: Decimal | None
    when: str | None
    note: str | None
    evidence: tuple[str, ...]
    visibility: str | None
    announcement: str | None = None

    @classmethod
    def from_graph(cls, graph: Graph, iri: str, announcement: str | None = None) -> Contribution:
        node = URIRef(iri)

        def one(predicate: URIRef, subject: Node = node) -> str | None:
            value = graph.value(subject, predicate)
            return str(value) if value is not None else None

        visibility = graph.value(node, CBPP.visibility)
        names = {term: name for name, term in VISIBILITY.items()}
        return cls(
            iri=iri,
            provider=one(VF.provider),
            receiver=one(VF.receiver),
            action=one(VF.action),
            kinds=tuple(sorted(str(k) for k in graph.objects(node, VF.resourceClassifiedAs))),
            hours=effort_hours(graph, node),
            when=one(VF.hasPointInTime) or one(VF.hasEnd),
            note=one(VF.note),
            evidence=tuple(sorted(str(e) for e in graph.objects(node, DCTERMS.references))),
            visibility=names.get(visibility) if isinstance(visibility, URIRef) else None,
            announcement=announcement,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "contribution": self.iri,
            "provider": self.provider,
            "receiver": self.receiver,
            "action": self.action,
            "kinds": list(self.kinds),
            "hours": str(self.hours) if self.hours is not None else None,
            "when": self.when,
            "note": self.note,
            "evidence": list(self.evidence),
            "visibility": self.visibility,
            "announcement": self.announcement,
        }


def effort_hours(graph: Graph, node: Node) -> Decimal | None:
    """The ``vf:effortQuantity`` of ``node`` in hours (``om:hour``, or ``om:minute`` / 60);
    ``None`` without one, or in another unit."""
    measure = graph.value(node, VF.effortQuantity)
    if measure is None:
        return None
    value = graph.value(measure, VF.hasNumericalValue)
    unit = graph.value(measure, VF.hasUnit)
    if not isinstance(value, Literal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if unit == OM.hour:
        return number
    if unit == OM.minute:
        return number / 60
    return None


@dataclass(frozen=True)
class Proposal:
    """A motion in ``{c}proposals/`` (model §7): ``open`` while its vote event has not ended
    and no decision names it."""

    motion: str
    event: str
    title: str | None
    description: str | None
    creator: str | None
    created: str | None
    closes: str | None
    effect: str | None
    ballots: int
    decided: bool
    open: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "motion": self.motion,
            "event": self.event,
            "title": self.title,
            "description": self.description,
            "creator": self.creator,
            "created": self.created,
            "closes": self.closes,
            "effect": self.effect,
            "ballots": self.ballots,
            "decided": self.decided,
            "open": self.open,
        }


@dataclass(frozen=True)
class Unreadable:
    """Something a listing named that this session could not read (``status`` ``None``: it did
    not parse)."""

    url: str
    status: int | None
    reason: str


# -- effects of motions (model §7, the JSON of propose) ----


def remove_member(webid: str) -> dict[str, Any]:
    """The effect "end ``webid``'s membership"."""
    return {"type": "remove-member", "member": webid}


def admit_member(webid: str, role: str = "member") -> dict[str, Any]:
    """The effect "admit ``webid`` with ``role``" (they still confirm, as after an invitation)."""
    return {"type": "admit-member", "member": webid, "role": role}


def adopt_value_rule(
    title: str,
    credit_per_hour: Decimal | float,
    kind_weights: Mapping[str, Decimal | float] | None = None,
    cap_per_period: Decimal | float | None = None,
    period: str | None = None,
) -> dict[str, Any]:
    """The effect "adopt this value rule": ``credit_per_hour``, weights by kind name (local names of
    the KIND scheme, e.g. ``"care"``; unnamed kinds weigh 1.0), an optional cap per person per
    ``period`` (an xsd:duration, e.g. ``"P1M"``)."""
    rule: dict[str, Any] = {
        "title": title,
        "credit_per_hour": float(credit_per_hour),
        "kind_weights": {k: float(w) for k, w in (kind_weights or {}).items()},
    }
    for name in rule["kind_weights"]:
        kind_term(name)  # an unknown kind fails here, not on the server
    if cap_per_period is not None:
        rule["cap_per_period"] = float(cap_per_period)
    if period is not None:
        rule["period"] = period
    return {"type": "adopt-value-rule", "rule": rule}


def adopt_decision_rule(
    quorum: float,
    threshold: float,
    period: str,
    electorate: str | None = None,
    weighting: str | None = None,
) -> dict[str, Any]:
    """The effect "adopt this decision rule" (model §7): ``quorum`` and ``threshold`` in [0, 1],
    the voting ``period`` (xsd:duration), the electorate role name, ``weighting``
    ``"one-member-one-vote"`` or ``"credit-weighted"``."""
    for name, value in (("quorum", quorum), ("threshold", threshold)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} is a fraction between 0 and 1, not {value}")
    if weighting not in (None, "one-member-one-vote", "credit-weighted"):
        raise ValueError("weighting is one-member-one-vote or credit-weighted")
    rule: dict[str, Any] = {"quorum": quorum, "threshold": threshold, "period": period}
    if electorate is not None:
        rule["electorate"] = electorate
    if weighting is not None:
        rule["weighting"] = weighting
    return {"type": "adopt-decision-rule", "rule": rule}


def parse_value_rule(text: str, title: str | None = None) -> dict[str, Any]:
    """The adopt-value-rule effect from ``credit_per_hour=10,care=1.5,cap=40[,period=P1M]`` (the
    CLI's ``--value-rule``): every other ``name=number`` is a kind weight. ``ValueError`` says
    what is wrong."""
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"{part!r}: write name=value, e.g. credit_per_hour=10,care=1.5,cap=40")
        values[name.strip().replace("-", "_")] = value.strip()
    if "credit_per_hour" not in values:
        raise ValueError("a value rule needs credit_per_hour=N (credit for one hour of weight 1.0)")

    def number(name: str) -> Decimal:
        try:
            found = Decimal(values[name])
        except InvalidOperation:
            raise ValueError(f"{name}={values[name]}: not a number") from None
        if found < 0 or not found.is_finite():
            raise ValueError(f"{name}={values[name]}: must be a number of 0 or more")
        return found

    rate = number("credit_per_hour")
    cap = number("cap") if "cap" in values else None
    period = values.get("period")
    weights = {
        name: number(name) for name in values if name not in ("credit_per_hour", "cap", "period", "title")
    }
    return adopt_value_rule(
        title or values.get("title") or f"{rate} credit per hour", rate, weights, cap, period
    )


def kind_term(name: str) -> URIRef:
    """A contribution kind by local name (``"documentation"``) or IRI; ``ValueError`` for a name
    the KIND scheme does not have."""
    if name.startswith(("http://", "https://")):
        return URIRef(name)
    try:
        term: URIRef = getattr(KIND, name)
    except AttributeError:
        known = ", ".join(sorted(n for n in KIND.__annotations__ if n != "scheme"))
        raise ValueError(f"unknown contribution kind {name!r}; the kinds are: {known}") from None
    return term


# -- documents the member writes (pure) ----


def member_half(doc: str, webid: str, community: str) -> Graph:
    """The member half of a membership (model §4), at ``doc`` (node ``#membership``), pointing at
    the community half ``{c}members/{key_of(webid)}#membership``."""
    c = community_root(community)
    graph = _graph()
    node = URIRef(doc + "#membership")
    graph.add((node, RDF.type, ORG.Membership))
    graph.add((node, ORG.member, URIRef(webid)))
    graph.add((node, ORG.organization, URIRef(c + "profile/card#me")))
    graph.add((node, RDFS.seeAlso, URIRef(f"{c}members/{key_of(webid)}#membership")))
    return graph


def contribution_graph(
    doc: str,
    *,
    provider: str,
    community: str,
    kinds: Sequence[str],
    hours: Decimal | float | None = None,
    at: datetime | None = None,
    begin: datetime | None = None,
    end: datetime | None = None,
    note: str | None = None,
    evidence: Iterable[str] = (),
    visibility: str = "community",
    action: str = "work",
) -> Graph:
    """A contribution (model §6) at ``doc``, node ``#it``. Either ``at`` (``vf:hasPointInTime``)
    or ``begin`` and ``end``; neither: now. ``ValueError`` for what the contribution shape
    would refuse anyway (no kind, an unknown kind or visibility, negative hours, a note over 2000
    characters)."""
    if not kinds:
        raise ValueError("name at least one kind of contribution (e.g. documentation, code, care)")
    if visibility not in VISIBILITY:
        raise ValueError(f"visibility is one of {', '.join(VISIBILITY)}, not {visibility!r}")
    if action not in ACTIONS:
        raise ValueError(f"action is one of {', '.join(ACTIONS)}, not {action!r}")
    if note is not None and len(note) > 2000:
        raise ValueError(f"a note has at most 2000 characters (this one has {len(note)})")
    if (begin is None) != (end is None):
        raise ValueError("give both the beginning and the end, or one point in time")
    if at is not None and begin is not None:
        raise ValueError("give a point in time or a beginning and an end, not both")
    graph = _graph()
    node = URIRef(doc + "#it")
    graph.add((node, RDF.type, VF.EconomicEvent))
    graph.add((node, RDF.type, CBPP.Contribution))
    graph.add((node, VF.action, ACTIONS[action]))
    graph.add((node, VF.provider, URIRef(provider)))
    graph.add((node, VF.receiver, URIRef(community_root(community) + "profile/card#me")))
    for kind in kinds:
        graph.add((node, VF.resourceClassifiedAs, kind_term(kind)))
    if hours is not None:
        amount = Decimal(str(hours))
        if amount < 0 or not amount.is_finite():
            raise ValueError(f"hours must be 0 or more, not {hours}")
        measure = BNode()
        graph.add((node, VF.effortQuantity, measure))
        graph.add((measure, RDF.type, VF.Measure))
        graph.add((measure, VF.hasNumericalValue, Literal(amount, datatype=XSD.decimal)))
        graph.add((measure, VF.hasUnit, OM.hour))
    if begin is not None and end is not None:
        if end <= begin:
            raise ValueError("the end must come after the beginning")
        graph.add((node, VF.hasBeginning, timestamp(begin)))
        graph.add((node, VF.hasEnd, timestamp(end)))
    else:
        graph.add((node, VF.hasPointInTime, timestamp(at or now())))
    for url in evidence:
        graph.add((node, DCTERMS.references, URIRef(url)))
    if note:
        graph.add((node, VF.note, Literal(note)))
    graph.add((node, CBPP.visibility, VISIBILITY[visibility]))
    return graph


def ballot_graph(doc: str, *, voter: str, motion: str, option: str) -> Graph:
    """A ballot (model §7) at ``doc``, node ``#vote``, for the vote event of ``motion``."""
    if option not in VOTE_OPTIONS:
        raise ValueError(f"vote {', '.join(VOTE_OPTIONS)}; not {option!r}")
    graph = _graph()
    node = URIRef(doc + "#vote")
    graph.add((node, RDF.type, OPENGOV.Vote))
    graph.add((node, OPENGOV.voteEvent, URIRef(event_iri(motion))))
    graph.add((node, SCHEMA.agent, URIRef(voter)))
    graph.add((node, SCHEMA.option, Literal(option)))
    return graph


def visibility_acl(doc: str, acl: str, *, owner: str, community: str, visibility: str) -> Graph:
    """The ACL of a member's document for a visibility (model §6): its owner keeps Read, Write
    and Control; ``community`` adds Read for the community's agent and its members group;
    ``public`` Read for everyone (foaf:Agent)."""
    if visibility not in VISIBILITY:
        raise ValueError(f"visibility is one of {', '.join(VISIBILITY)}, not {visibility!r}")
    c = community_root(community)
    graph = _graph()
    target = URIRef(doc)

    def rule(name: str, modes: Iterable[URIRef], subjects: Iterable[tuple[URIRef, URIRef]]) -> None:
        node = URIRef(f"{acl}#{name}")
        graph.add((node, RDF.type, ACL.Authorization))
        graph.add((node, ACL.accessTo, target))
        for predicate, value in subjects:
            graph.add((node, predicate, value))
        for mode in modes:
            graph.add((node, ACL.mode, mode))

    rule("owner", (ACL.Read, ACL.Write, ACL.Control), [(ACL.agent, URIRef(owner))])
    if visibility == "community":
        rule(
            "community",
            (ACL.Read,),
            [
                (ACL.agent, URIRef(c + "profile/card#me")),
                (ACL.agentGroup, URIRef(c + "groups/members#group")),
            ],
        )
    elif visibility == "public":
        rule("public", (ACL.Read,), [(ACL.agentClass, FOAF.Agent)])
    return graph


def relative_turtle(graph: Graph, base: str) -> bytes:
    """``graph`` as Turtle (N-Triples lines) whose IRIs in ``base#...`` are written relative
    (``<#it>``), for a POST: the server resolves them against the URL it gives the new resource."""
    lines = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return lines.replace(f"<{base}#", "<#").replace(f"<{base}>", "<>").encode("utf-8")


def _graph() -> Graph:
    graph = Graph()
    for prefix, namespace in (
        ("org", ORG),
        ("vf", VF._NS),
        ("cbpp", CBPP._NS),
        ("kind", KIND._NS),
        ("om", OM._NS),
        ("opengov", OPENGOV._NS),
        ("schema", SCHEMA._NS),
        ("as", AS._NS),
        ("acl", ACL._NS),
        ("foaf", FOAF),
        ("dct", DCTERMS),
    ):
        graph.bind(prefix, namespace, override=True)
    return graph


_PLACEHOLDER = "https://new.invalid/resource"
"""The stand-in URL of a resource about to be POSTed (its IRIs are sent relative)."""


# -- the client ----


class Community:
    """A community seen through ``session`` (a member, an admin, or the public).

    ``url`` is the community pod root ``{c}`` (any URL :func:`community_root` understands);
    ``storage`` the member's own pod where their halves, contributions and ballots go (default: the
    first ``pim:storage`` of the session's WebID profile)."""

    def __init__(self, session: Session, url: str, *, storage: str | None = None) -> None:
        self.session = session
        self.pod = Pod(session)
        self.url = community_root(url)
        self.webid = self.url + "profile/card#me"
        self._storage = storage

    def __repr__(self) -> str:
        return f"Community({self.url!r}, as {self.session.webid!r})"

    # -- founding -------------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        session: Session,
        server_base: str,
        name: str,
        title: str,
        *,
        description: str | None = None,
        mission: str | None = None,
        homepage: str | None = None,
        links: Sequence[str] = (),
        storage: str | None = None,
    ) -> tuple[Community, dict[str, Any]]:
        """Found the community ``{server_base}{name}/`` (model §5): the founder's member half is
        written first (in their pod), then ``POST {base}.communities`` creates the pod, with the
        founder as its first admin. Returns the community and the server's answer
        (``{"community", "pod", "membership", "confirmed"}``). When the server refuses (the name
        is taken: 409), a member half this call created is deleted again (one that was there before,
        a real membership of a community of that name, is kept)."""
        base = server_base if server_base.endswith("/") else server_base + "/"
        community = cls(session, f"{base}{name}/", storage=storage)
        existed = community.pod.exists(community.member_half_url())
        half = community.write_member_half()
        body: dict[str, Any] = {"name": name, "title": title, "membership": half}
        for key, value in (("description", description), ("mission", mission), ("homepage", homepage)):
            if value is not None:
                body[key] = value
        if links:
            body["links"] = list(links)
        try:
            answer = community._post_json(base + COMMUNITIES, body)
        except PodClientError:
            if not existed:  # no community: the new half would point at nothing
                with contextlib.suppress(PodClientError):
                    community.pod.delete(community.member_half_url())
            raise
        if isinstance(answer.get("pod"), str) and answer["pod"] != community.url:
            community = cls(session, answer["pod"], storage=storage)
        return community, answer

    # -- reading ----------------------------------------------------------------------------------------

    def show(self) -> CommunityInfo:
        """The community's profile and roster (``GET {c}.well-known/community``; anyone may)."""
        roster = self._get_json(self.url + WELL_KNOWN)
        card = self.pod.get_graph(self.url + "profile/card").graph
        me = URIRef(self.webid)

        def one(predicate: URIRef) -> str | None:
            value = card.value(me, predicate)
            return str(value) if value is not None else None

        inbox = one(LDP.inbox) or self.url + "inbox/"
        return CommunityInfo(
            url=self.url,
            webid=self.webid,
            name=one(FOAF.name) or (str(roster["name"]) if roster.get("name") else None),
            description=one(DCTERMS.description),
            mission=one(CBPP.mission),
            homepages=tuple(sorted(str(h) for h in card.objects(me, FOAF.homepage))),
            value_rule=one(CBPP.valueRule),
            decision_rule=one(CBPP.decisionRule),
            inbox=inbox,
            members=tuple(MemberInfo.from_json(m) for m in roster.get("members") or ()),
            pending=tuple(MemberInfo.from_json(m) for m in roster.get("pending") or ()),
            profile=card,
        )

    def members(self) -> list[MemberInfo]:
        """The confirmed and unconfirmed members on the roster (not the pending invitations)."""
        return list(self.show().members)

    def open_proposals(self) -> list[Proposal]:
        """The motions still open for votes (members may read ``{c}proposals/``)."""
        return [p for p in self.proposals() if p.open]

    def proposals(self) -> list[Proposal]:
        """Every motion in ``{c}proposals/``, newest first, with whether a decision names it."""
        decided: set[str] = set()
        with contextlib.suppress(*_UNREADABLE):
            for entry in self.pod.list(self.url + "decisions/"):
                if entry.is_container or not _plain(entry.url):
                    continue
                with contextlib.suppress(*_UNREADABLE):
                    graph = self.pod.get_graph(entry.url).graph
                    decided.update(str(m) for m in graph.objects(None, OPENGOV.motion))
        found: list[Proposal] = []
        moment = now()
        for entry in self.pod.list(self.url + "proposals/"):
            if entry.is_container or not _plain(entry.url):
                continue
            graph = self.pod.get_graph(entry.url).graph
            for motion in graph.subjects(RDF.type, OPENGOV.Motion):
                found.append(_proposal(graph, motion, decided, moment))
        return sorted(found, key=lambda p: (p.created or "", p.motion), reverse=True)

    def contributions(self) -> tuple[list[Contribution], list[Unreadable]]:
        """The contributions announced to ``{c}contributions/`` that this session may read (each
        fetched from its author's pod), and what it could not read."""
        readable: list[Contribution] = []
        skipped: list[Unreadable] = []
        seen: set[str] = set()
        for entry in self.pod.list(self.url + "contributions/"):
            if entry.is_container or not _plain(entry.url):
                continue
            try:
                announcement = self.pod.get_graph(entry.url).graph
            except PodClientError as error:
                skipped.append(Unreadable(entry.url, error.status, error.message))
                continue
            for activity in announcement.subjects(RDF.type, AS.Announce):
                target = announcement.value(activity, AS.object)
                if not isinstance(target, URIRef) or str(target) in seen:
                    continue
                seen.add(str(target))
                try:
                    graph = self.pod.get_graph(urldefrag(str(target))[0]).graph
                except PodClientError as error:
                    skipped.append(Unreadable(str(target), error.status, error.message))
                    continue
                readable.append(Contribution.from_graph(graph, str(target), entry.url))
        return readable, skipped

    # -- membership ---------------------------------------------------------------------------------------

    def storage(self) -> str:
        """The member's own pod: ``storage=`` if given, else the first ``pim:storage`` of the
        session's WebID profile, else the storage holding the WebID document."""
        if self._storage is None:
            webid = self._webid()
            found = profile.storages(self.pod, webid)
            self._storage = found[0] if found else self.pod.storage_of(webid)
        return self._storage if self._storage.endswith("/") else self._storage + "/"

    def member_half_url(self) -> str:
        """Where this session's member half is (its document): ``{m}memberships/{key_of(C)}``."""
        return f"{self.storage()}memberships/{key_of(self.webid)}"

    def community_half_url(self, webid: str | None = None) -> str:
        """The community half of ``webid`` (default: the session's): ``{c}members/{key}#membership``."""
        return f"{self.url}members/{key_of(webid or self._webid())}#membership"

    def write_member_half(self) -> str:
        """Write (or rewrite) the member half (model §4), readable by the community's agent
        only besides its owner; returns its node IRI ``...#membership``. The ``memberships/``
        container is created constrained by the membership shape when missing."""
        container = self.storage() + "memberships/"
        ensure_container(self.pod, container, SHAPES["membership"])
        doc = self.member_half_url()
        self.pod.put_graph(doc, member_half(doc, self._webid(), self.url))
        self._share(doc, "community-agent")
        return doc + "#membership"

    def join(self) -> dict[str, Any]:
        """Ask to join: write the member half, then send an ``as:Join`` (``as:instrument`` the
        member half) to the community's inbox (LDN). An admin accepts it with
        :meth:`accept_request`. Returns ``{"membership": member half, "request": notification URL}``."""
        half = self.write_member_half()
        inbox = self.show().inbox
        graph = _graph()
        node = URIRef(_PLACEHOLDER)
        graph.add((node, RDF.type, AS.Join))
        graph.add((node, AS.actor, URIRef(self._webid())))
        graph.add((node, AS.object, URIRef(self.webid)))
        graph.add((node, AS.instrument, URIRef(half)))
        graph.add((node, AS.published, Literal(now().isoformat(), datatype=XSD.dateTime)))
        location = self._post_turtle(inbox, relative_turtle(graph, _PLACEHOLDER))
        return {"membership": half, "request": location}

    def invite(self, webid: str, role: str | None = None) -> dict[str, Any]:
        """Invite ``webid`` (admins, or whoever the policy lets ``cbpp:invite``); the person then
        calls :meth:`accept_invitation`. ``{"membership", "notified"}``."""
        body: dict[str, Any] = {"webid": webid}
        if role is not None:
            body["role"] = role
        return self._action("invite", body)

    def accept_request(self, member_half: str, role: str | None = None) -> dict[str, Any]:
        """Accept a join request (``cbpp:admit``): ``member_half`` is the ``as:instrument`` of the
        ``as:Join`` in the inbox (the person's member half)."""
        body: dict[str, Any] = {"membership": _membership_node(member_half)}
        if role is not None:
            body["role"] = role
        return self._action("accept", body)

    def accept_invitation(self) -> dict[str, Any]:
        """Accept an invitation: write the member half, then ``confirm`` (model §5)."""
        half = self.write_member_half()
        return self._action("confirm", {"membership": half})

    def join_requests(self) -> list[dict[str, str]]:
        """The ``as:Join`` requests in the community's inbox (admins may read it):
        ``[{"request", "actor", "membership"}]``."""
        found: list[dict[str, str]] = []
        inbox = self.show().inbox
        for entry in self.pod.list(inbox):
            if entry.is_container or not _plain(entry.url):
                continue
            with contextlib.suppress(PodClientError):
                graph = self.pod.get_graph(entry.url).graph
                for activity in graph.subjects(RDF.type, AS.Join):
                    actor = graph.value(activity, AS.actor)
                    instrument = graph.value(activity, AS.instrument)
                    if actor is not None and instrument is not None:
                        found.append(
                            {"request": entry.url, "actor": str(actor), "membership": str(instrument)}
                        )
        return found

    def leave(self) -> dict[str, Any]:
        """Leave: ``POST leave`` (the community half gets ``time:hasEnd`` and an ``as:Leave``),
        then **delete** the member half.

        Deleting rather than marking it ended: the member half is the claim "I am a member", and
        confirmation is defined by its existence (model §4), so once it is gone no later
        ``sync`` can count the membership again even if the community's side failed to record
        the end; the dated history is the community half's (begin, end, the ``as:Leave``). The
        answer gains ``"member_half_deleted": bool``."""
        answer = self._action("leave", {})
        deleted = True
        try:
            self.pod.delete(self.member_half_url())
        except NotFound:
            deleted = False
        return {**answer, "member_half_deleted": deleted}

    def sync(self) -> dict[str, Any]:
        """Ask the community to re-derive its groups from the halves as they are now."""
        return self._action("sync", {})

    # -- contributions -----------------------------------------------------------------------------------

    def contribute(
        self,
        kinds: Sequence[str],
        *,
        hours: Decimal | float | None = None,
        note: str | None = None,
        evidence: Iterable[str] = (),
        at: datetime | None = None,
        begin: datetime | None = None,
        end: datetime | None = None,
        visibility: str = "community",
        action: str = "work",
        announce: bool = True,
    ) -> str:
        """Record a contribution in the member's ``{m}contributions/`` (created when missing,
        constrained by the contribution shape), give it the ACL of ``visibility``, and announce it
        to ``{c}contributions/``. Returns its node IRI (``...#it``).

        The ACL is written right after the document; until then the document has the container's
        rules (its owner's only, in a container this method created). Mistakes in the arguments
        raise ``ValueError`` before any request."""
        graph = contribution_graph(
            _PLACEHOLDER,
            provider=self._webid(),
            community=self.url,
            kinds=kinds,
            hours=hours,
            at=at,
            begin=begin,
            end=end,
            note=note,
            evidence=evidence,
            visibility=visibility,
            action=action,
        )
        container = self.storage() + "contributions/"
        ensure_container(self.pod, container, SHAPES["contribution"])
        slug = _UNSAFE_SLUG.sub("-", f"{now():%Y%m%d}-{'-'.join(k.rsplit('#', 1)[-1] for k in kinds)}")
        doc = self._post_turtle(container, relative_turtle(graph, _PLACEHOLDER), slug=slug[:60])
        self._share(doc, visibility)
        node = doc + "#it"
        if announce:
            self.announce(node)
        return node

    def announce(self, contribution: str) -> str:
        """Announce a contribution to ``{c}contributions/`` (members may append); its URL."""
        graph = _graph()
        node = URIRef(_PLACEHOLDER)
        graph.add((node, RDF.type, AS.Announce))
        graph.add((node, AS.actor, URIRef(self._webid())))
        graph.add((node, AS.object, URIRef(contribution_iri(contribution))))
        return self._post_turtle(self.url + "contributions/", relative_turtle(graph, _PLACEHOLDER))

    def digest_of(self, contribution: str) -> str:
        """The content digest (model §5) of the contribution document as this session reads it
        now, as Turtle."""
        doc = urldefrag(contribution)[0]
        response = raise_for_status(self.session.request("GET", doc, headers={"Accept": TURTLE}))
        return content_digest(response.content, doc, essence(response.headers.get("Content-Type")) or TURTLE)

    def acknowledge(
        self,
        contribution: str,
        verdict: str = "accept",
        *,
        corrects: str | None = None,
        note: str | None = None,
        digest: str | None = None,
    ) -> dict[str, Any]:
        """Acknowledge (``verdict`` ``"accept"`` or ``"reject"``) a contribution as read now: its
        digest is computed from the document this session reads (or given, as ``digest``) and the
        community refuses (409) if the document changed since. ``corrects`` names an earlier
        ledger entry this one supersedes. ``{"entry": ledger entry URL}``."""
        if verdict not in ("accept", "reject"):
            raise ValueError(f"verdict is accept or reject, not {verdict!r}")
        body: dict[str, Any] = {
            "contribution": contribution_iri(contribution),
            "digest": digest or self.digest_of(contribution),
            "verdict": verdict,
        }
        if corrects is not None:
            body["corrects"] = corrects
        if note is not None:
            body["note"] = note
        return self._action("acknowledge", body)

    # -- governance ------------------------------------------------------------------------------------------

    def propose(
        self, title: str, *, description: str | None = None, effect: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Table a motion (``cbpp:propose``); ``effect`` from :func:`remove_member`,
        :func:`admit_member`, :func:`adopt_value_rule` or :func:`adopt_decision_rule`.
        ``{"motion", "closes"}``."""
        body: dict[str, Any] = {"title": title}
        if description is not None:
            body["description"] = description
        if effect is not None:
            body["effect"] = dict(effect)
        return self._action("propose", body)

    def ballot_url(self, motion: str) -> str:
        """Where this session's ballot on ``motion`` is: ``{m}votes/{key_of(vote event)}`` (one per
        motion, so voting again replaces the ballot)."""
        return f"{self.storage()}votes/{key_of(event_iri(motion))}"

    def vote(self, motion: str, option: str) -> dict[str, Any]:
        """Vote ``option`` (yes, no, abstain) on ``motion`` (the motion, its vote event or its
        document): the ballot is written in ``{m}votes/`` (constrained by the vote shape) readable by
        the community, then the community records it. A later vote replaces the earlier one."""
        doc = self.ballot_url(motion)
        graph = ballot_graph(doc, voter=self._webid(), motion=motion, option=option)
        ensure_container(self.pod, self.storage() + "votes/", SHAPES["vote"])
        self.pod.put_graph(doc, graph)
        self._share(doc, "community")
        return {**self._action("vote", {"ballot": doc + "#vote"}), "ballot": doc + "#vote"}

    def tally(self, motion: str) -> dict[str, Any]:
        """Count the votes on ``motion`` (any member, once it has closed or everyone voted; 409
        before). ``{"decision", "result", "counts"}``."""
        return self._action("tally", {"motion": motion_iri(motion)})

    # -- HTTP -----------------------------------------------------------------------------------------------

    def _webid(self) -> str:
        if self.session.webid is None:
            raise NotAuthenticated("log in first: this needs your WebID", url=self.url)
        return self.session.webid

    def _action(self, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._post_json(f"{self.url}{WELL_KNOWN}/{action}", body)

    def _post_json(self, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": JSON, "Accept": JSON}
        response = raise_for_status(self.session.request("POST", url, headers=headers, data=data))
        return _json_of(response, url)

    def _get_json(self, url: str) -> dict[str, Any]:
        response = raise_for_status(self.session.request("GET", url, headers={"Accept": JSON}))
        return _json_of(response, url)

    def _post_turtle(self, container: str, body: bytes, *, slug: str | None = None) -> str:
        headers = {"Content-Type": TURTLE}
        if slug:
            headers["Slug"] = slug
        response = raise_for_status(self.session.request("POST", container, headers=headers, data=body))
        location = response.headers.get("Location")
        if not location:
            raise PodClientError(f"{container} created a resource but did not say where (no Location)")
        return str(without_query(urljoin(container, location)))

    def _share(self, doc: str, visibility: str) -> None:
        """Write ``doc``'s ACL for ``visibility`` (or ``"community-agent"``: Read for the
        community's agent only, for member halves the community checks)."""
        acl = acl_url(self.pod, doc)
        if visibility == "community-agent":
            graph = visibility_acl(doc, acl, owner=self._webid(), community=self.url, visibility="private")
            node = URIRef(acl + "#community-agent")
            graph.add((node, RDF.type, ACL.Authorization))
            graph.add((node, ACL.accessTo, URIRef(doc)))
            graph.add((node, ACL.agent, URIRef(self.webid)))
            graph.add((node, ACL.mode, ACL.Read))
        else:
            graph = visibility_acl(doc, acl, owner=self._webid(), community=self.url, visibility=visibility)
        self.pod.put_graph(acl, graph)


# -- helpers ----


def ensure_container(pod: Pod, container: str, shape: URIRef | None = None) -> bool:
    """Create ``container`` when it does not exist, declaring ``shape`` in its description
    resource (``<container> ldp:constrainedBy <shape>``, model §2; found by ``Link
    rel="describedby"``, else ``{container}.meta``). An existing container is left as it is.
    Returns whether it was created."""
    if pod.exists(container):
        return False
    pod.create_container(container)
    if shape is not None:
        response = pod.head(container)
        meta = link(response, "describedby") or container + ".meta"

        def constrain(graph: Graph) -> None:
            graph.add((URIRef(container), LDP.constrainedBy, shape))

        pod.update_graph(meta, constrain)
    return True


def _membership_node(url: str) -> str:
    return url if "#" in url else url + "#membership"


def _plain(url: str) -> bool:
    """Not an auxiliary resource (``.acl``, ``.meta``)."""
    return not urlsplit(url).path.endswith((".acl", ".meta"))


def _json_of(response: Any, url: str) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        document = response.json()
    except ValueError:
        raise PodClientError(f"{url} answered {response.status_code} without JSON", url=url) from None
    if not isinstance(document, dict):
        raise PodClientError(f"{url} answered JSON that is not an object", url=url)
    return document


def _proposal(graph: Graph, motion: Node, decided: set[str], moment: datetime) -> Proposal:
    event = graph.value(None, OPENGOV.motion, motion)

    def one(subject: Node | None, predicate: URIRef) -> str | None:
        if subject is None:
            return None
        value = graph.value(subject, predicate)
        return str(value) if value is not None else None

    closes = one(event, SCHEMA.endDate)
    effect = graph.value(motion, CBPP.effect)
    effect_type = None
    if effect is not None:
        types = [t for t in graph.objects(effect, RDF.type) if t != CBPP.Effect]
        effect_type = str(types[0]) if types else None
    is_decided = str(motion) in decided
    ended = False
    if closes is not None:
        try:
            ended = datetime.fromisoformat(closes.replace("Z", "+00:00")) <= moment
        except ValueError:
            ended = False
    return Proposal(
        motion=str(motion),
        event=str(event) if event is not None else event_iri(str(motion)),
        title=one(motion, DCTERMS.title),
        description=one(motion, DCTERMS.description),
        creator=one(motion, DCTERMS.creator),
        created=one(motion, DCTERMS.created),
        closes=closes,
        effect=effect_type,
        ballots=len(set(graph.objects(event, OPENGOV.vote))) if event is not None else 0,
        decided=is_decided,
        open=not is_decided and not ended,
    )


__all__ = [
    "ACTIONS",
    "VISIBILITY",
    "VOTE_OPTIONS",
    "Community",
    "CommunityInfo",
    "Contribution",
    "MemberInfo",
    "Proposal",
    "Unreadable",
    "admit_member",
    "adopt_decision_rule",
    "adopt_value_rule",
    "ballot_graph",
    "community_of_motion",
    "community_root",
    "contribution_graph",
    "contribution_iri",
    "effort_hours",
    "ensure_container",
    "event_iri",
    "key_of",
    "kind_term",
    "member_half",
    "motion_iri",
    "parse_value_rule",
    "relative_turtle",
    "remove_member",
    "timestamp",
    "visibility_acl",
]
