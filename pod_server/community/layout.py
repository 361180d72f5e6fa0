"""What a new community pod holds (model §3), as documents to write in order.

``POST {base}.communities`` first makes an ordinary pod through the accounts service, then writes
these documents over it: the community profile replaces the person profile, and every container
gets its own ACL (Web Access Control §4: an ACL replaces inherited rules, so each repeats the
community agent's full control). Containers that hold shaped data get a description resource
``{container}.meta`` naming their shape (LDP §4.2.1.6 ``ldp:constrainedBy``).

::

    {c}.acl                 C, admin group: all (default); members group: Read (default)
    {c}profile/card         the community profile; C = <#me>            public Read
    {c}roles                admin, maintainer, member (org:Role)          public Read; admins Write
    {c}governance/policy    ODRL permissions: action -> roles             public Read
    {c}governance/rules     the default decision rule                     public Read
    {c}decisions/founding   <#event> a prov:Activity, cbpp:Founding       members Read
    {c}members/ groups/ rules/ ledger/                                    public Read
    {c}inbox/               LDN inbox                                     public Append; admins Read
    {c}contributions/       announcements                                 members Read+Append
    {c}proposals/ decisions/                                              members Read
    {c}credit/              credit reports                                public Read; admins Write
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rdflib import BNode, Graph, Literal, URIRef

from pod_server.accounts.pods import Document
from pod_server.community.model import ADMIN, DEFAULT_ROLES, MAINTAINER, MEMBER, Community
from pod_server.rdf import formats
from pod_server.rdf.convert import serialize
from pod_server.shapes import ShapeLibrary
from pod_server.vocab import (
    ACL,
    AS,
    CBPP,
    DCTERMS,
    FOAF,
    LDP,
    ODRL2,
    ORG,
    PIM,
    PROV,
    RDF,
    RDFS,
    SOLID,
    VCARD,
    VF,
    XSD,
)

CONSTRAINED = {
    "ledger/": "acknowledgement",
    "proposals/": "motion",
    "members/": "membership",
    "rules/": "value-rule",
}
"""Container -> the bundled shape document its ``.meta`` names (model §3)."""

CONTAINERS = (
    "members/",
    "groups/",
    "inbox/",
    "contributions/",
    "ledger/",
    "proposals/",
    "decisions/",
    "rules/",
    "credit/",
    "governance/",
)

DEFAULT_POLICY: dict[str, tuple[URIRef, ...]] = {
    ADMIN: (CBPP.invite, CBPP.admit, CBPP.acknowledge, CBPP.propose, CBPP.vote),
    MAINTAINER: (CBPP.acknowledge, CBPP.propose, CBPP.vote),
    MEMBER: (CBPP.propose, CBPP.vote),
}
"""Role -> the ODRL actions ``{c}governance/policy`` grants it at founding (model §3)."""

ALL = (ACL.Read, ACL.Write, ACL.Append, ACL.Control)
READ = (ACL.Read,)


@dataclass(frozen=True)
class Founding:
    """What the founder said about the community (``POST {base}.communities``), checked."""

    name: str
    title: str
    founder: str
    description: str | None = None
    mission: str | None = None
    homepage: str | None = None
    links: tuple[str, ...] = ()


def _graph() -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix, ns in (
        ("acl", ACL._NS),
        ("as", AS._NS),
        ("cbpp", CBPP._NS),
        ("dct", DCTERMS._NS),
        ("foaf", FOAF._NS),
        ("ldp", LDP._NS),
        ("odrl", ODRL2._NS),
        ("org", ORG._NS),
        ("pim", PIM._NS),
        ("prov", PROV._NS),
        ("rdfs", RDFS._NS),
        ("solid", SOLID._NS),
        ("vcard", VCARD._NS),
        ("vf", VF._NS),
        ("xsd", XSD._NS),
    ):
        graph.bind(prefix, ns)
    return graph


def new_graph() -> Graph:
    """An empty graph with the community prefixes bound (readable Turtle in every document)."""
    return _graph()


@dataclass(frozen=True)
class Grant:
    """One ACL rule: who (an agent, a group, or everyone) holds which modes."""

    name: str
    modes: Sequence[URIRef]
    agent: str | None = None
    group: str | None = None
    public: bool = False


def acl_graph(target: str, grants: Iterable[Grant], *, default: bool) -> Graph:
    """The ACL document ``{target}.acl`` (WAC §3); ``default`` makes every rule inherited by the
    contents of a container target (``acl:default``)."""
    graph = _graph()
    base = URIRef(target)
    for grant in grants:
        rule = URIRef(f"{target}.acl#{grant.name}")
        graph.add((rule, RDF.type, ACL.Authorization))
        graph.add((rule, ACL.accessTo, base))
        if default:
            graph.add((rule, ACL.default, base))
        if grant.agent:
            graph.add((rule, ACL.agent, URIRef(grant.agent)))
        if grant.group:
            graph.add((rule, ACL.agentGroup, URIRef(grant.group)))
        if grant.public:
            graph.add((rule, ACL.agentClass, FOAF.Agent))
        for mode in grant.modes:
            graph.add((rule, ACL.mode, mode))
    return graph


def profile_graph(c: Community, founding: Founding, issuer: str) -> Graph:
    """The community's WebID profile (model §3): ``C`` is an organisation, a group and a
    ``cbpp:Community`` whose governance, groups and containers are linked from here."""
    graph = _graph()
    card, me = URIRef(c.at("profile/card")), URIRef(c.webid)
    graph.add((card, RDF.type, FOAF.PersonalProfileDocument))
    graph.add((card, FOAF.maker, me))
    graph.add((card, FOAF.primaryTopic, me))
    for kind in (ORG.Organization, VF.Organization, AS.Group, CBPP.Community, FOAF.Organization):
        graph.add((me, RDF.type, kind))
    graph.add((me, FOAF.name, Literal(founding.title)))
    if founding.description:
        graph.add((me, DCTERMS.description, Literal(founding.description)))
    if founding.mission:
        graph.add((me, CBPP.mission, Literal(founding.mission)))
    if founding.homepage:
        graph.add((me, FOAF.homepage, URIRef(founding.homepage)))
    for link in founding.links:
        graph.add((me, RDFS.seeAlso, URIRef(link)))
    graph.add((me, CBPP.governedBy, URIRef(c.at("governance/policy#policy"))))
    graph.add((me, CBPP.memberGroup, URIRef(c.group("members"))))
    for role in DEFAULT_ROLES:
        if role != MEMBER:
            graph.add((me, CBPP.roleGroup, URIRef(c.group(role))))
    graph.add((me, CBPP.decisionRule, URIRef(c.at("governance/rules#default"))))
    graph.add((me, LDP.inbox, URIRef(c.at("inbox/"))))
    graph.add((me, CBPP.ledger, URIRef(c.at("ledger/"))))
    graph.add((me, CBPP.proposals, URIRef(c.at("proposals/"))))
    graph.add((me, CBPP.decisions, URIRef(c.at("decisions/"))))
    graph.add((me, CBPP.contributions, URIRef(c.at("contributions/"))))
    graph.add((me, CBPP.creditReports, URIRef(c.at("credit/"))))
    graph.add((me, SOLID.oidcIssuer, URIRef(issuer)))
    graph.add((me, PIM.storage, URIRef(c.url)))
    graph.add((me, SOLID.publicTypeIndex, URIRef(c.at("settings/publicTypeIndex.ttl"))))
    graph.add((me, SOLID.privateTypeIndex, URIRef(c.at("settings/privateTypeIndex.ttl"))))
    graph.add((me, PIM.preferencesFile, URIRef(c.at("settings/prefs.ttl"))))
    return graph


def roles_graph(c: Community, names: Iterable[str] = DEFAULT_ROLES) -> Graph:
    graph = _graph()
    for name in names:
        role = URIRef(c.role(name))
        graph.add((role, RDF.type, ORG.Role))
        graph.add((role, RDFS.label, Literal(name)))
    return graph


def policy_graph(c: Community, grants: dict[str, tuple[URIRef, ...]] = DEFAULT_POLICY) -> Graph:
    """``{c}governance/policy``: one ODRL permission per (role, action) (ODRL 2.2 §2.1 Policy,
    §2.6 Permission); ``odrl:target`` is the community."""
    graph = _graph()
    policy = URIRef(c.at("governance/policy#policy"))
    graph.add((policy, RDF.type, ODRL2.Set))
    graph.add((policy, ODRL2.target, URIRef(c.webid)))
    for role, actions in grants.items():
        for action in actions:
            permission = BNode()
            graph.add((policy, ODRL2.permission, permission))
            graph.add((permission, ODRL2.assignee, URIRef(c.role(role))))
            graph.add((permission, ODRL2.action, action))
            graph.add((permission, ODRL2.target, URIRef(c.webid)))
    return graph


def rules_graph(c: Community) -> Graph:
    """``{c}governance/rules``: the default decision rule (model §3 and §7)."""
    graph = _graph()
    rule = URIRef(c.at("governance/rules#default"))
    graph.add((rule, RDF.type, CBPP.DecisionRule))
    graph.add((rule, CBPP.electorate, URIRef(c.role(MEMBER))))
    graph.add((rule, CBPP.quorum, Literal("0.5", datatype=XSD.decimal)))
    graph.add((rule, CBPP.threshold, Literal("0.5", datatype=XSD.decimal)))
    graph.add((rule, CBPP.period, Literal("P7D", datatype=XSD.duration)))
    graph.add((rule, CBPP.weighting, CBPP.OneMemberOneVote))
    graph.add((rule, PROV.wasGeneratedBy, URIRef(c.founding)))
    return graph


def founding_graph(c: Community, founder: str, now: datetime) -> Graph:
    """``{c}decisions/founding``: the act that made the community; its rules and the founder's
    membership say ``prov:wasGeneratedBy`` it."""
    graph = _graph()
    event = URIRef(c.founding)
    graph.add((event, RDF.type, PROV.Activity))
    graph.add((event, RDF.type, CBPP.Founding))
    graph.add((event, PROV.wasAssociatedWith, URIRef(founder)))
    graph.add((event, PROV.endedAtTime, Literal(now.isoformat(), datatype=XSD.dateTime)))
    return graph


def constrained_graph(container_url: str, shape: str) -> Graph:
    graph = _graph()
    graph.add((URIRef(container_url), LDP.constrainedBy, URIRef(ShapeLibrary.iri(shape))))
    return graph


def documents(c: Community, founding: Founding, issuer: str, now: datetime) -> list[Document]:
    """Every document of the community layout, in write order: the root ACL first (nothing is
    ever more open than meant), each container before its ACL and description, then content."""
    me, admins, members = c.webid, c.group(ADMIN), c.group("members")
    agent = Grant("community", ALL, agent=me)
    admin_all = Grant("admins", ALL, group=admins)
    public_read = Grant("public", READ, public=True)
    members_read = Grant("members", READ, group=members)

    def doc(relative: str, graph: Graph) -> Document:
        url = c.at(relative)
        return Document(relative, serialize(graph, formats.TURTLE, url))

    def acl(relative: str, *grants: Grant) -> Document:
        return doc(relative + ".acl", acl_graph(c.at(relative), (agent, *grants), default=True))

    written: list[Document] = [
        acl("", admin_all, members_read),
        doc("profile/card", profile_graph(c, founding, issuer)),
        doc("profile/card.acl", acl_graph(c.at("profile/card"), (agent, public_read), default=False)),
        doc("roles", roles_graph(c)),
        doc(
            "roles.acl",
            acl_graph(
                c.at("roles"),
                (agent, public_read, Grant("admins", (ACL.Read, ACL.Write, ACL.Append), group=admins)),
                default=False,
            ),
        ),
    ]
    container_acls: dict[str, tuple[Grant, ...]] = {
        "members/": (public_read,),
        "groups/": (public_read,),
        "rules/": (public_read,),
        "ledger/": (public_read,),
        "governance/": (public_read,),
        # What the server records (votes, motions, decisions, the ledger, memberships) nobody edits
        # by hand, admins included: only C, the server acting as the community, writes there.
        "inbox/": (Grant("public", (ACL.Append,), public=True), Grant("admins", READ, group=admins)),
        "contributions/": (Grant("members", (ACL.Read, ACL.Append), group=members), admin_all),
        "proposals/": (members_read,),
        "decisions/": (members_read,),
        "credit/": (public_read, Grant("admins", (ACL.Read, ACL.Write, ACL.Append), group=admins)),
    }
    for container in CONTAINERS:
        written.append(Document(container, b""))
        written.append(acl(container, *container_acls[container]))
        if container in CONSTRAINED:
            written.append(
                doc(container + ".meta", constrained_graph(c.at(container), CONSTRAINED[container]))
            )
    written += [
        doc("governance/policy", policy_graph(c)),
        doc("governance/rules", rules_graph(c)),
        doc("decisions/founding", founding_graph(c, founding.founder, now)),
    ]
    return written


__all__ = [
    "CONSTRAINED",
    "CONTAINERS",
    "DEFAULT_POLICY",
    "Founding",
    "Grant",
    "acl_graph",
    "constrained_graph",
    "documents",
    "founding_graph",
    "new_graph",
    "policy_graph",
    "profile_graph",
    "roles_graph",
    "rules_graph",
]
