"""What a new pod holds, and the rules for pod names.

A pod at ``{pod}`` (the storage root) starts with (templates in the spirit of CSS's
``templates/pod`` and NSS's ``default-templates/new-account``, written for this server)::

    {pod}                              pim:Storage (Solid Protocol §4.1; type Link added by the server)
    {pod}.acl                          owner: Read, Write, Append, Control of everything (acl:default)
    {pod}profile/card                  the WebID profile; <#me> is the WebID
    {pod}profile/card.acl              owner: all; public: Read
    {pod}inbox/                        ldp:inbox of the WebID
    {pod}inbox/.acl                    owner: all; public: Append (Solid Notifications inbox)
    {pod}settings/prefs.ttl            pim:preferencesFile (private)
    {pod}settings/publicTypeIndex.ttl  solid:publicTypeIndex, solid:ListedDocument (public Read)
    {pod}settings/publicTypeIndex.ttl.acl
    {pod}settings/privateTypeIndex.ttl solid:privateTypeIndex, solid:UnlistedDocument (private)

Access rules are WAC documents (Web Access Control §4: an ACL resource replaces inherited rules,
so each one repeats the owner's full control).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef

from pod_server.errors import BadRequest
from pod_server.ldp.identifiers import SERVER_ROUTES
from pod_server.rdf import formats
from pod_server.rdf.convert import serialize
from pod_server.vocab import ACL, DCTERMS, FOAF, LDP, PIM, RDF, SOLID

POD_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
"""One DNS label in lower case: safe as a path segment and, in subdomain mode, as a host name."""

RESERVED_NAMES = frozenset(
    {r.strip("/").lstrip(".") for r in SERVER_ROUTES}
    | {"account", "accounts", "admin", "api", "idp", "oidc", "static", "www", "login", "register"}
)
"""Names that would be confusing or collide with server routes in some deployment."""

FULL_CONTROL = (ACL.Read, ACL.Write, ACL.Append, ACL.Control)


def check_pod_name(name: str) -> str:
    """``name`` if it can name a new pod, else :class:`BadRequest` saying what to change."""
    if not POD_NAME.match(name):
        raise BadRequest(
            "a pod name is 1 to 63 lower-case letters, digits or '-', not starting or ending with '-'; "
            f"got {name!r}"
        )
    if name in RESERVED_NAMES:
        raise BadRequest(f"the pod name {name!r} is reserved by the server; choose another")
    return name


@dataclass(frozen=True)
class PodLayout:
    """The URLs of one pod's resources. ``pod`` is the storage root's URL (ends with '/')."""

    pod: str

    @property
    def card(self) -> str:
        return self.pod + "profile/card"

    @property
    def webid(self) -> str:
        return self.card + "#me"

    @property
    def inbox(self) -> str:
        return self.pod + "inbox/"

    @property
    def preferences(self) -> str:
        return self.pod + "settings/prefs.ttl"

    @property
    def public_type_index(self) -> str:
        return self.pod + "settings/publicTypeIndex.ttl"

    @property
    def private_type_index(self) -> str:
        return self.pod + "settings/privateTypeIndex.ttl"


@dataclass(frozen=True)
class Document:
    """One resource to create: its path relative to the pod root, and its Turtle body."""

    relative: str
    turtle: bytes


def _acl(target: str, webid: str, *, default: bool, public: tuple[URIRef, ...] = ()) -> Graph:
    """The ACL document ``{target}.acl``: the owner's full control, plus ``public`` modes for anyone."""
    g = Graph()
    g.bind("acl", ACL._NS)
    g.bind("foaf", FOAF._NS)
    acl_url = target + ".acl"
    base = URIRef(target)
    rule = URIRef(acl_url + "#owner")
    g.add((rule, RDF.type, ACL.Authorization))
    g.add((rule, ACL.agent, URIRef(webid)))
    g.add((rule, ACL.accessTo, base))
    if default:
        g.add((rule, ACL.default, base))
    for mode in FULL_CONTROL:
        g.add((rule, ACL.mode, mode))
    if public:
        pub = URIRef(acl_url + "#public")
        g.add((pub, RDF.type, ACL.Authorization))
        g.add((pub, ACL.agentClass, FOAF.Agent))
        g.add((pub, ACL.accessTo, base))
        for mode in public:
            g.add((pub, ACL.mode, mode))
    return g


def pod_documents(layout: PodLayout, issuer: str) -> list[Document]:
    """The documents of a new pod, in the order they must be written (a subject before its ACL,
    the root's ACL first so nothing is ever public by accident)."""
    pod, webid = layout.pod, layout.webid
    me = URIRef(webid)

    profile = Graph()
    profile.bind("foaf", FOAF._NS)
    profile.bind("solid", SOLID._NS)
    profile.bind("pim", PIM._NS)
    profile.bind("ldp", LDP._NS)
    card = URIRef(layout.card)
    profile.add((card, RDF.type, FOAF.PersonalProfileDocument))
    profile.add((card, FOAF.maker, me))
    profile.add((card, FOAF.primaryTopic, me))
    profile.add((me, RDF.type, FOAF.Person))
    profile.add((me, SOLID.oidcIssuer, URIRef(issuer)))
    profile.add((me, PIM.storage, URIRef(pod)))
    profile.add((me, LDP.inbox, URIRef(layout.inbox)))
    profile.add((me, SOLID.publicTypeIndex, URIRef(layout.public_type_index)))
    profile.add((me, SOLID.privateTypeIndex, URIRef(layout.private_type_index)))
    profile.add((me, PIM.preferencesFile, URIRef(layout.preferences)))

    prefs = Graph()
    prefs.add((URIRef(layout.preferences), RDF.type, PIM.ConfigurationFile))
    prefs.add((URIRef(layout.preferences), DCTERMS.title, Literal("Preferences file")))
    prefs.add((me, SOLID.publicTypeIndex, URIRef(layout.public_type_index)))
    prefs.add((me, SOLID.privateTypeIndex, URIRef(layout.private_type_index)))

    public_index = Graph()
    public_index.add((URIRef(layout.public_type_index), RDF.type, SOLID.TypeIndex))
    public_index.add((URIRef(layout.public_type_index), RDF.type, SOLID.ListedDocument))
    private_index = Graph()
    private_index.add((URIRef(layout.private_type_index), RDF.type, SOLID.TypeIndex))
    private_index.add((URIRef(layout.private_type_index), RDF.type, SOLID.UnlistedDocument))

    def doc(url: str, graph: Graph) -> Document:
        return Document(url[len(pod) :], serialize(graph, formats.TURTLE, url))

    return [
        doc(pod + ".acl", _acl(pod, webid, default=True)),
        doc(layout.card, profile),
        doc(layout.card + ".acl", _acl(layout.card, webid, default=False, public=(ACL.Read,))),
        Document("inbox/", b""),
        doc(layout.inbox + ".acl", _acl(layout.inbox, webid, default=True, public=(ACL.Append,))),
        doc(layout.preferences, prefs),
        doc(layout.public_type_index, public_index),
        doc(
            layout.public_type_index + ".acl",
            _acl(layout.public_type_index, webid, default=False, public=(ACL.Read,)),
        ),
        doc(layout.private_type_index, private_index),
    ]


__all__ = ["POD_NAME", "RESERVED_NAMES", "Document", "PodLayout", "check_pod_name", "pod_documents"]
