"""RDF vocabularies the client uses, as rdflib ``DefinedNamespace`` classes with ``_fail = True``.

A typo such as ``SOLID.publicTypeIndx`` raises ``AttributeError`` instead of silently matching
nothing. The client never imports ``pod_server`` (it must work against any Solid server), so these
are its own, smaller copies of the server's ``pod_server.vocab``.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, DefinedNamespace

__all__ = ["ACL", "DCTERMS", "IANA_MEDIA_TYPES", "LDP", "NOTIFY", "PIM", "RDF", "SOLID", "STAT", "VOID"]


class LDP(DefinedNamespace):
    """Linked Data Platform, http://www.w3.org/ns/ldp# (Solid Protocol §4.2, §5.3)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/ldp#")

    Resource: URIRef
    Container: URIRef
    BasicContainer: URIRef
    contains: URIRef


class SOLID(DefinedNamespace):
    """Solid terms, http://www.w3.org/ns/solid/terms# (Solid Protocol §4.1, §5.3.1; Type Indexes)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/terms#")

    storageDescription: URIRef
    InsertDeletePatch: URIRef
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


class PIM(DefinedNamespace):
    """Workspace vocabulary, http://www.w3.org/ns/pim/space# (Solid Protocol §4.1: pim:Storage)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/pim/space#")

    Storage: URIRef
    storage: URIRef
    preferencesFile: URIRef


class STAT(DefinedNamespace):
    """POSIX stat, http://www.w3.org/ns/posix/stat# (sizes and times in container listings)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/posix/stat#")

    size: URIRef
    mtime: URIRef


class ACL(DefinedNamespace):
    """Web Access Control, http://www.w3.org/ns/auth/acl# (WAC §3, §5)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/auth/acl#")

    Authorization: URIRef
    AuthenticatedAgent: URIRef
    Read: URIRef
    Write: URIRef
    Append: URIRef
    Control: URIRef
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


class NOTIFY(DefinedNamespace):
    """Solid Notifications, http://www.w3.org/ns/solid/notifications# (Notifications Protocol,
    section "Namespaces")."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/notifications#")

    subscription: URIRef
    channelType: URIRef
    feature: URIRef
    WebSocketChannel2023: URIRef
    WebhookChannel2023: URIRef
    StreamingHTTPChannel2023: URIRef


class VOID(DefinedNamespace):
    """Vocabulary of Interlinked Datasets, http://rdfs.org/ns/void# (VoID §6.3: a storage description
    names its pod's SPARQL endpoint with ``void:sparqlEndpoint``)."""

    _fail = True
    _NS = Namespace("http://rdfs.org/ns/void#")

    sparqlEndpoint: URIRef


IANA_MEDIA_TYPES = Namespace("http://www.w3.org/ns/iana/media-types/")
"""Container listings type a child by its media type: ``<.../text/plain#Resource>`` (CSS and pod-server)."""
