"""RDF vocabularies the client uses, as rdflib ``DefinedNamespace`` classes with ``_fail = True``.

A typo such as ``SOLID.publicTypeIndx`` raises ``AttributeError`` instead of silently matching
nothing. The client never imports ``pod_server`` (it must work against any Solid server), so these
are its own, smaller copies of the server's ``pod_server.vocab``.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import (
    DCTERMS,
    FOAF,
    ODRL2,
    ORG,
    PROV,
    RDF,
    RDFS,
    SKOS,
    TIME,
    XSD,
    DefinedNamespace,
)

__all__ = [
    "ACL",
    "AS",
    "CBPP",
    "DCTERMS",
    "FOAF",
    "IANA_MEDIA_TYPES",
    "KIND",
    "LDP",
    "NOTIFY",
    "ODRL2",
    "OM",
    "OPENGOV",
    "ORG",
    "PIM",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SHAPES",
    "SKOS",
    "SOLID",
    "STAT",
    "TIME",
    "VCARD",
    "VF",
    "VOID",
    "XSD",
]


class LDP(DefinedNamespace):
    """Linked Data Platform, http://www.w3.org/ns/ldp# (Solid Protocol §4.2, §5.3)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/ldp#")

    Resource: URIRef
    Container: URIRef
    BasicContainer: URIRef
    contains: URIRef
    inbox: URIRef
    constrainedBy: URIRef


class SOLID(DefinedNamespace):
    """Solid terms, http://www.w3.org/ns/solid/terms# (Solid Protocol §4.1, §5.3.1; Type Indexes)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/terms#")

    storageDescription: URIRef
    oidcIssuer: URIRef
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


# -- communities (docs/communities.md; the same terms as pod_server/vocab.py) -------------------------
# rdflib's own ORG, PROV, TIME, SKOS, ODRL2 and FOAF are re-exported above.


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


class AS(DefinedNamespace):
    """Activity Streams 2.0, https://www.w3.org/ns/activitystreams# (the notification payloads)."""

    _fail = True
    _NS = Namespace("https://www.w3.org/ns/activitystreams#")

    Create: URIRef
    Update: URIRef
    Delete: URIRef
    Add: URIRef
    Remove: URIRef
    Join: URIRef
    Leave: URIRef
    Invite: URIRef
    Accept: URIRef
    Reject: URIRef
    Announce: URIRef
    Offer: URIRef
    Group: URIRef
    actor: URIRef
    object: URIRef
    target: URIRef
    instrument: URIRef
    result: URIRef
    summary: URIRef
    published: URIRef


class VF(DefinedNamespace):
    """ValueFlows 1.0, https://w3id.org/valueflows/ont/vf# (economic events, agents, measures,
    claims): contributions are ``vf:EconomicEvent``s and credit is a ``vf:Claim``."""

    _fail = True
    _NS = Namespace("https://w3id.org/valueflows/ont/vf#")

    EconomicEvent: URIRef
    Claim: URIRef
    Measure: URIRef
    Unit: URIRef
    Agent: URIRef
    Person: URIRef
    Organization: URIRef
    Process: URIRef
    Intent: URIRef
    ResourceSpecification: URIRef
    action: URIRef
    provider: URIRef
    receiver: URIRef
    inputOf: URIRef
    inScopeOf: URIRef
    satisfies: URIRef
    resourceClassifiedAs: URIRef
    resourceConformsTo: URIRef
    resourceQuantity: URIRef
    effortQuantity: URIRef
    hasNumericalValue: URIRef
    hasUnit: URIRef
    hasPointInTime: URIRef
    hasBeginning: URIRef
    hasEnd: URIRef
    note: URIRef
    name: URIRef
    label: URIRef
    symbol: URIRef
    triggeredBy: URIRef
    settles: URIRef
    corrects: URIRef
    defaultUnitOfResource: URIRef
    # actions (vf:Action individuals)
    work: URIRef
    deliverService: URIRef
    produce: URIRef
    cite: URIRef
    transfer: URIRef


class OPENGOV(DefinedNamespace):
    """Popolo's open-government terms, http://www.w3.org/ns/opengov# (motions, vote events, votes)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/opengov#")

    Motion: URIRef
    VoteEvent: URIRef
    Vote: URIRef
    motion: URIRef
    voteEvent: URIRef
    vote: URIRef
    count: URIRef
    result: URIRef
    weight: URIRef


class SCHEMA(DefinedNamespace):
    """The schema.org terms Popolo uses, http://schema.org/ (as Solid profiles write it)."""

    _fail = True
    _NS = Namespace("http://schema.org/")

    agent: URIRef
    option: URIRef
    publisher: URIRef
    startDate: URIRef
    endDate: URIRef


class OM(DefinedNamespace):
    """Ontology of units of Measure 2.0, http://www.ontology-of-units-of-measure.org/resource/om-2/
    (the units ValueFlows measures use)."""

    _fail = True
    _NS = Namespace("http://www.ontology-of-units-of-measure.org/resource/om-2/")

    hour: URIRef
    minute: URIRef
    one: URIRef


class CBPP(DefinedNamespace):
    """pod-server's community vocabulary, https://w3id.org/pod-server/cbpp# (vocab/cbpp.ttl,
    docs/vocabulary.md): the few terms W3C ORG, ValueFlows, PROV-O, ODRL and Popolo lack."""

    _fail = True
    _NS = Namespace("https://w3id.org/pod-server/cbpp#")

    # classes
    Community: URIRef
    Contribution: URIRef
    Acknowledgement: URIRef
    ValueRule: URIRef
    DecisionRule: URIRef
    KindWeight: URIRef
    CreditReport: URIRef
    CreditTotal: URIRef
    Effect: URIRef
    AdmitMember: URIRef
    RemoveMember: URIRef
    AdoptValueRule: URIRef
    AdoptDecisionRule: URIRef
    Visibility: URIRef
    Weighting: URIRef
    # individuals
    Private: URIRef
    CommunityOnly: URIRef
    Public: URIRef
    OneMemberOneVote: URIRef
    CreditWeighted: URIRef
    Founding: URIRef
    # ODRL actions a community policy grants to roles
    acknowledge: URIRef
    vote: URIRef
    propose: URIRef
    invite: URIRef
    admit: URIRef
    # community profile
    mission: URIRef
    governedBy: URIRef
    memberGroup: URIRef
    roleGroup: URIRef
    valueRule: URIRef
    decisionRule: URIRef
    ledger: URIRef
    proposals: URIRef
    decisions: URIRef
    contributions: URIRef
    creditReports: URIRef
    # contributions and acknowledgements
    visibility: URIRef
    objectDigest: URIRef
    contributor: URIRef
    # value rules
    creditPerHour: URIRef
    kindWeight: URIRef
    kind: URIRef
    weight: URIRef
    capPerPeriod: URIRef
    # decision rules and motions
    electorate: URIRef
    quorum: URIRef
    threshold: URIRef
    period: URIRef
    weighting: URIRef
    effect: URIRef
    member: URIRef
    role: URIRef
    rule: URIRef
    electorateSize: URIRef
    # credit reports
    periodStart: URIRef
    periodEnd: URIRef
    hours: URIRef
    rate: URIRef
    amount: URIRef
    uncappedAmount: URIRef


class KIND(DefinedNamespace):
    """The published list of contribution kinds, https://w3id.org/pod-server/kinds# (a SKOS concept
    scheme in vocab/cbpp.ttl): care, mentoring and events count alongside code and documents."""

    _fail = True
    _NS = Namespace("https://w3id.org/pod-server/kinds#")

    scheme: URIRef
    code: URIRef
    documentation: URIRef
    design: URIRef
    translation: URIRef
    testing: URIRef
    review: URIRef
    maintenance: URIRef
    support: URIRef
    mentoring: URIRef
    care: URIRef
    facilitation: URIRef
    event: URIRef
    outreach: URIRef
    research: URIRef
    fundraising: URIRef


SHAPES = Namespace("https://w3id.org/pod-server/shapes/")
"""pod-server's published SHACL shape documents (docs/communities.md §1): ``SHAPES["contribution"]``
is the document a container names in ``ldp:constrainedBy``."""
