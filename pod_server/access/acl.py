"""An ACL document compiled for fast evaluation (Web Access Control §4 "Authorization Rule").

:func:`compile_acl` turns the RDF of one ACL resource into a :class:`CompiledAcl`: its
authorizations as plain :class:`Rule` values, indexed by the URLs they name with ``acl:accessTo``
and ``acl:default``. Evaluating a request then touches no RDF at all.

What counts (WAC §6.2 "Authorization Conformance"): every node typed ``acl:Authorization`` in the
document, whatever its IRI (clients write rules whose subjects point into other documents), with
at least one ``acl:mode``, one access object and one access subject. A rule with an
``acl:condition`` of a type this server does not evaluate never applies (WAC "Access Conditions":
condition types the server does not signal are not used; failing closed never widens access).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from pod_server.access.credentials import Credentials
from pod_server.access.modes import Mode
from pod_server.ldp.identifiers import subject_of
from pod_server.vocab import ACL, FOAF, RDF

_MODES: dict[Node, frozenset[Mode]] = {
    ACL.Read: frozenset({Mode.READ}),
    # WAC §4.2: "acl:Append is a subclass of acl:Write": Write grants Append too.
    ACL.Write: frozenset({Mode.WRITE, Mode.APPEND}),
    ACL.Append: frozenset({Mode.APPEND}),
    ACL.Control: frozenset({Mode.CONTROL}),
}

CLIENT = "client"
ISSUER = "issuer"
_CONDITION_TYPES: dict[Node, tuple[str, URIRef]] = {
    ACL.ClientCondition: (CLIENT, ACL.client),
    ACL.IssuerCondition: (ISSUER, ACL.issuer),
}
SUPPORTED_CONDITIONS: tuple[URIRef, ...] = (ACL.ClientCondition, ACL.IssuerCondition)
"""The condition types this server evaluates, advertised on ACL resources (WAC "ACL Resource
Condition Discovery": ``Link: <type>; rel="http://www.w3.org/ns/auth/acl#condition"``)."""
CONDITION_REL = str(ACL.condition)


def is_acl(path: str) -> bool:
    """Whether ``path`` is an ACL resource (``x.acl``, Solid Protocol §4.3)."""
    found = subject_of(path)
    return found is not None and found[1] == "acl"


def normalize_origin(value: str) -> str | None:
    """An origin (RFC 6454) as ``scheme://host[:port]``, lower case, without a default port or a
    trailing slash; ``None`` for ``null`` and anything that is not an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in {"http", "https"} or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or (scheme, port) in {("http", 80), ("https", 443)}:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def normalize_issuer(value: str) -> str:
    """Issuers compare without a trailing slash: ``https://idp.example/`` = ``https://idp.example``."""
    return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``acl:condition``: the request's ``kind`` value (client id or issuer) must be in ``allowed``."""

    kind: str
    allowed: frozenset[str]

    def holds(self, credentials: Credentials) -> bool:
        if self.kind == CLIENT:
            return credentials.client_id is not None and credentials.client_id in self.allowed
        return credentials.issuer is not None and normalize_issuer(credentials.issuer) in self.allowed


@dataclass(frozen=True, slots=True)
class Rule:
    """One applicable ``acl:Authorization``. ``modes`` already holds implied modes (Write -> Append)."""

    modes: frozenset[Mode]
    agents: frozenset[str] = frozenset()
    public: bool = False
    authenticated: bool = False
    groups: tuple[str, ...] = ()
    origins: frozenset[str] = frozenset()
    conditions: tuple[Condition, ...] = ()

    @property
    def has_agent_subject(self) -> bool:
        return self.public or self.authenticated or bool(self.agents) or bool(self.groups)

    def admits(self, credentials: Credentials) -> bool | None:
        """Whether the rule applies to ``credentials``: ``True``, ``False``, or ``None`` when only
        agent group membership could decide (the caller looks that up, lazily, since it may cost)."""
        for condition in self.conditions:
            if not condition.holds(credentials):
                return False
        if self.origins:
            # WAC §6.3: acl:origin is taken into account only when the request has an Origin
            # header. A rule whose only subject is an origin then never applies without one.
            if credentials.origin is None:
                if not self.has_agent_subject:
                    return False
            else:
                origin = normalize_origin(credentials.origin)
                if origin is None or origin not in self.origins:
                    return False
                if not self.has_agent_subject:
                    return True  # acl:origin alone: any agent, from that origin
        if self.public:
            return True
        if credentials.webid is None:
            return False
        if self.authenticated or credentials.webid in self.agents:
            return True
        return None if self.groups else False


@dataclass(frozen=True)
class CompiledAcl:
    """The rules of one ACL document, by the resource URL they name."""

    access_to: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    default: dict[str, tuple[Rule, ...]] = field(default_factory=dict)

    def rules_for(self, url: str, *, inherited: bool) -> tuple[Rule, ...]:
        """``acl:accessTo`` rules for a resource's own ACL; ``acl:default`` rules (naming the
        container whose ACL this is) when the resource inherits it (WAC §6.1)."""
        return (self.default if inherited else self.access_to).get(url, ())


def _iris(graph: Graph, subject: Node, predicate: URIRef) -> Iterable[str]:
    return (str(o) for o in graph.objects(subject, predicate) if isinstance(o, URIRef))


def _names(graph: Graph, subject: Node, predicate: URIRef) -> Iterable[str]:
    """IRIs, and also plain literals: a client registered with a provider (client credentials, a
    static client) has a client id that is a string, not a Client ID Document IRI."""
    return (str(o) for o in graph.objects(subject, predicate) if isinstance(o, URIRef | Literal))


def _conditions(graph: Graph, authorization: Node) -> tuple[Condition, ...] | None:
    """The rule's conditions, or ``None`` when one has a type this server does not evaluate."""
    found: list[Condition] = []
    for node in graph.objects(authorization, ACL.condition):
        types = [t for t in graph.objects(node, RDF.type) if t in _CONDITION_TYPES]
        if not types:
            return None
        for t in types:
            kind, predicate = _CONDITION_TYPES[t]
            values = _names(graph, node, predicate)
            allowed = frozenset(normalize_issuer(v) if kind == ISSUER else v for v in values)
            found.append(Condition(kind, allowed))
    return tuple(found)


def compile_acl(graph: Graph) -> CompiledAcl:
    """Compile the authorizations in ``graph`` (parsed with the ACL resource's URL as base)."""
    access_to: dict[str, list[Rule]] = {}
    default: dict[str, list[Rule]] = {}
    for authorization in set(graph.subjects(RDF.type, ACL.Authorization)):
        modes = frozenset().union(
            *(_MODES.get(m, frozenset()) for m in graph.objects(authorization, ACL.mode))
        )
        if not modes:
            continue
        classes = set(graph.objects(authorization, ACL.agentClass))
        origins = frozenset(
            o for o in (normalize_origin(v) for v in _iris(graph, authorization, ACL.origin)) if o
        )
        conditions = _conditions(graph, authorization)
        if conditions is None:
            continue
        rule = Rule(
            modes=modes,
            agents=frozenset(_iris(graph, authorization, ACL.agent)),
            public=FOAF.Agent in classes,
            authenticated=ACL.AuthenticatedAgent in classes,
            groups=tuple(sorted(set(_iris(graph, authorization, ACL.agentGroup)))),
            origins=origins,
            conditions=conditions,
        )
        if not rule.has_agent_subject and not rule.origins:
            continue
        for url in set(_iris(graph, authorization, ACL.accessTo)):
            access_to.setdefault(url, []).append(rule)
        for url in set(_iris(graph, authorization, ACL.default)):
            default.setdefault(url, []).append(rule)
    return CompiledAcl({k: tuple(v) for k, v in access_to.items()}, {k: tuple(v) for k, v in default.items()})


__all__ = [
    "CONDITION_REL",
    "SUPPORTED_CONDITIONS",
    "CompiledAcl",
    "Condition",
    "Rule",
    "compile_acl",
    "is_acl",
    "normalize_issuer",
    "normalize_origin",
]
