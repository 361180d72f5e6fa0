"""RDF vocabularies used in code, as rdflib ``DefinedNamespace`` classes with ``_fail = True``.

A typo such as ``SOLID.storageDescripton`` raises ``AttributeError`` at import or call time
instead of silently matching nothing. Never write a vocabulary IRI as a string in code.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, XSD, DefinedNamespace

__all__ = [
    "ACL",
    "AS",
    "DCTERMS",
    "FOAF",
    "JSONLD",
    "LDP",
    "NOTIFY",
    "PIM",
    "PODSERVER",
    "RDF",
    "SD",
    "SOLID",
    "SPARQL_RESULTS_XML",
    "STAT",
    "VCARD",
    "VOID",
    "XSD",
    "media_type_class",
]


class LDP(DefinedNamespace):
    """Linked Data Platform, http://www.w3.org/ns/ldp# (Solid Protocol §4.2, §5.3)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/ldp#")

    Resource: URIRef
    RDFSource: URIRef
    NonRDFSource: URIRef
    Container: URIRef
    BasicContainer: URIRef
    DirectContainer: URIRef
    IndirectContainer: URIRef
    contains: URIRef
    inbox: URIRef
    Page: URIRef
    PreferContainment: URIRef
    PreferMinimalContainer: URIRef
    PreferMembership: URIRef
    constrainedBy: URIRef


class SOLID(DefinedNamespace):
    """Solid terms, http://www.w3.org/ns/solid/terms# (Solid Protocol §2, §5.3.1, §4.1)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/terms#")

    storageDescription: URIRef
    owner: URIRef
    oidcIssuer: URIRef
    InsertDeletePatch: URIRef
    Patch: URIRef
    where: URIRef
    inserts: URIRef
    deletes: URIRef
    publicTypeIndex: URIRef
    privateTypeIndex: URIRef
    TypeIndex: URIRef
    ListedDocument: URIRef
    UnlistedDocument: URIRef
    TypeRegistration: URIRef
    forClass: URIRef
    instance: URIRef
    instanceContainer: URIRef
    storageQuota: URIRef
    updatesViaStreamingHttp2023: URIRef
    storageUsage: URIRef


class PIM(DefinedNamespace):
    """Workspace vocabulary, http://www.w3.org/ns/pim/space# (Solid Protocol §4.1: pim:Storage)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/pim/space#")

    Storage: URIRef
    storage: URIRef
    preferencesFile: URIRef
    ConfigurationFile: URIRef


class STAT(DefinedNamespace):
    """POSIX stat terms, http://www.w3.org/ns/posix/stat# (Solid Protocol §5.2, contained-resource
    metadata)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/posix/stat#")

    size: URIRef
    mtime: URIRef


class ACL(DefinedNamespace):
    """Web Access Control, http://www.w3.org/ns/auth/acl#."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/auth/acl#")

    Authorization: URIRef
    AuthenticatedAgent: URIRef
    Read: URIRef
    Write: URIRef
    Append: URIRef
    Control: URIRef
    Access: URIRef
    accessTo: URIRef
    default: URIRef
    agent: URIRef
    agentClass: URIRef
    agentGroup: URIRef
    origin: URIRef
    mode: URIRef
    condition: URIRef
    ClientCondition: URIRef
    IssuerCondition: URIRef
    client: URIRef
    issuer: URIRef


class VCARD(DefinedNamespace):
    """vCard in RDF, http://www.w3.org/2006/vcard/ns# (Solid WebID profiles use it for names and e-mail)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/2006/vcard/ns#")

    fn: URIRef
    hasEmail: URIRef
    hasPhoto: URIRef
    Individual: URIRef
    Group: URIRef
    hasMember: URIRef


class JSONLD(DefinedNamespace):
    """JSON-LD profile IRIs, http://www.w3.org/ns/json-ld# (JSON-LD 1.1 §9 and IANA considerations)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/json-ld#")

    expanded: URIRef
    compacted: URIRef
    flattened: URIRef
    framed: URIRef


_IANA = "http://www.w3.org/ns/iana/media-types/"


def media_type_class(content_type: str) -> URIRef:
    """The class a contained resource gets for its media type (Solid Protocol §5.2):
    ``text/turtle`` becomes ``<http://www.w3.org/ns/iana/media-types/text/turtle#Resource>``."""
    essence = content_type.split(";", 1)[0].strip().lower()
    return URIRef(f"{_IANA}{essence}#Resource")


# Keep these names importable from here so callers have one place for vocabularies.
_reexports = (DCTERMS, FOAF, RDF, XSD)


class PODSERVER(DefinedNamespace):
    """pod-server's own terms, https://w3id.org/pod-server/ns# (docs/accounts.md): the triple a
    person adds to a WebID document hosted elsewhere to prove they control it."""

    _fail = True
    _NS = Namespace("https://w3id.org/pod-server/ns#")

    verificationCode: URIRef


class NOTIFY(DefinedNamespace):
    """Solid Notifications, http://www.w3.org/ns/solid/notifications# (Solid Notifications
    Protocol, #notification-channel-data-model and #subscription-service-data-model)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/notifications#")

    subscription: URIRef
    channel: URIRef
    channelType: URIRef
    feature: URIRef
    topic: URIRef
    receiveFrom: URIRef
    sendTo: URIRef
    sender: URIRef
    state: URIRef
    startAt: URIRef
    endAt: URIRef
    rate: URIRef
    accept: URIRef
    WebSocketChannel2023: URIRef
    WebhookChannel2023: URIRef
    StreamingHTTPChannel2023: URIRef


class AS(DefinedNamespace):
    """Activity Streams 2.0, https://www.w3.org/ns/activitystreams# (the notification payloads)."""

    _fail = True
    _NS = Namespace("https://www.w3.org/ns/activitystreams#")

    Create: URIRef
    Update: URIRef
    Delete: URIRef
    Add: URIRef
    Remove: URIRef
    object: URIRef
    target: URIRef
    published: URIRef


class VOID(DefinedNamespace):
    """The Vocabulary of Interlinked Datasets, http://rdfs.org/ns/void# (W3C Note "Describing Linked
    Datasets with the VoID Vocabulary" §6.3: ``void:sparqlEndpoint``); a storage description names
    its pod's SPARQL endpoint with it."""

    _fail = True
    _NS = Namespace("http://rdfs.org/ns/void#")

    sparqlEndpoint: URIRef


class SD(DefinedNamespace):
    """SPARQL 1.1 Service Description, http://www.w3.org/ns/sparql-service-description# (§3): what
    the endpoint answers when asked with GET and no query."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/sparql-service-description#")

    Service: URIRef
    endpoint: URIRef
    supportedLanguage: URIRef
    SPARQL11Query: URIRef
    feature: URIRef
    UnionDefaultGraph: URIRef


SPARQL_RESULTS_XML = "http://www.w3.org/2005/sparql-results#"
"""The XML namespace of SPARQL Query Results XML documents (SPARQL 1.1 Query Results XML Format §2)."""
