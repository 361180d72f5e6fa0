"""Web Access Control from the client side: read a resource's ACL, grant and revoke modes.

Works with any server that implements WAC (https://solidproject.org/TR/wac), using only the
protocol: the ACL resource is found through the resource's ``Link: <...>; rel="acl"`` header
(WAC "ACL Resource Discovery"), read as Turtle, changed as an rdflib graph and written back with
``PUT`` as ``text/turtle``, guarded by ``If-Match`` (or ``If-None-Match: *`` when it is new) so
that a concurrent change gives :class:`pod_client.errors.PreconditionFailed` instead of being
overwritten.

Who a rule is for (WAC "Access Subjects"), as the keyword arguments of :func:`grant` and
:func:`revoke` and as :attr:`Rule.subject` in what :func:`show` returns:

- ``agent=webid``: ``acl:agent <webid>``; ``Rule.subject`` is ``"agent <webid>"``;
- ``group=url``: ``acl:agentGroup <url>`` (a vcard:Group); ``"group <url>"``;
- ``public=True``: ``acl:agentClass foaf:Agent``; ``"public"``;
- ``authenticated=True``: ``acl:agentClass acl:AuthenticatedAgent``; ``"authenticated"``;
- ``app=client_id``, with one of the above: ``acl:condition [ a acl:ClientCondition; acl:client
  <client id> ]``; ``"app <client id> for <webid>"`` (or ``for group <url>``, ``for public``,
  ``for authenticated``).

(``<...>`` stands for the value, without angle brackets.) The app restriction is WAC's "ACL
Resource Condition" extension: the rule applies only to requests whose Solid-OIDC token names that
client. A client id that is not an absolute IRI (client credentials give plain strings) is written
as a literal. Rules :func:`show` finds with an ``acl:origin`` or an ``acl:IssuerCondition`` get a
suffix such as ``" (origin https://app.example)"`` or ``" (issuer https://idp.example)"``.

Modes are ``"Read"``, ``"Write"``, ``"Append"`` and ``"Control"`` (:data:`MODES`). WAC §4.2: Write
includes Append, so revoking ``"Append"`` removes ``"Write"`` too.

Inheritance (WAC "Effective ACL Resource"): a resource without an ACL of its own is governed by
the ``acl:default`` rules of the nearest container above it that has one. Writing an ACL for such
a resource replaces those rules, so :func:`grant` (and :func:`revoke`) first copy them into the
new ACL, re-targeted to the resource (``acl:accessTo``, plus ``acl:default`` for a container): the
owner keeps what they had. The logged-in agent always keeps ``acl:Control`` there, and
:func:`revoke` refuses (``ValueError``) to take away the last ``acl:Control`` the logged-in WebID
holds, which would lock them out of the ACL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import FOAF, RDF
from rdflib.term import Identifier, Node

from pod_client.errors import NotFound, PodClientError, raise_for_status
from pod_client.links import link, parent
from pod_client.vocab import ACL

if TYPE_CHECKING:
    from pod_client.pod import Pod


MODES: tuple[str, ...] = ("Read", "Write", "Append", "Control")
"""The access modes of WAC §4.2, by their local names."""

_MODE_TERMS: dict[str, URIRef] = {
    "read": ACL.Read,
    "write": ACL.Write,
    "append": ACL.Append,
    "control": ACL.Control,
}
_MODE_NAMES: dict[Node, str] = {term: name for name, term in zip(MODES, _MODE_TERMS.values(), strict=True)}
_SUBJECT_PREDICATES = (ACL.agent, ACL.agentGroup, ACL.agentClass)
_TURTLE = "text/turtle"
_PARSERS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt"}

Subject = tuple[URIRef, URIRef]
"""Who a rule is for: the predicate (acl:agent, acl:agentGroup, acl:agentClass) and its object."""


@dataclass(frozen=True)
class Rule:
    """One access subject's modes in one ``acl:Authorization`` (see the table above).

    ``default`` is whether children inherit it (``acl:default``); ``access_to`` is whether it
    applies to the resource itself (``acl:accessTo``): ``False`` only for a rule that names the
    container in ``acl:default`` alone."""

    subject: str
    modes: frozenset[str]
    default: bool
    access_to: bool = True


@dataclass
class _Document:
    """An ACL being changed: ``own`` is whether the resource already had it (else it holds the
    inherited rules, copied)."""

    url: str
    graph: Graph
    etag: str | None
    own: bool


# -- discovery -------------------------------------------------------------------------------------
def acl_url(pod: Pod, url: str) -> str:
    """The URL of ``url``'s ACL resource, from ``Link: <...>; rel="acl"`` on a ``HEAD`` (WAC "ACL
    Resource Discovery"; Solid Protocol §4.3 "Auxiliary Resources"). The ACL may not exist yet."""
    response = pod.session.request("HEAD", url)
    found = link(response, "acl")
    if found is None or response.status_code == 404:
        raise_for_status(response)
        raise PodClientError(
            f'{url} has no Link rel="acl": this server does not offer Web Access Control for it '
            "(it may use Access Control Policies instead)",
            url=url,
        )
    return found


# -- reading ---------------------------------------------------------------------------------------
def show(pod: Pod, url: str) -> list[Rule]:
    """The rules of ``url``'s own ACL that name ``url`` (in ``acl:accessTo`` or ``acl:default``).

    Raises :class:`pod_client.errors.NotFound` when the resource has no ACL of its own and
    inherits its container's, and :class:`pod_client.errors.Forbidden` without Control."""
    acl = acl_url(pod, url)
    found = _get(pod, acl)
    if found is None:
        raise NotFound(f"{url} has no ACL of its own: it inherits its container's rules", url=acl, status=404)
    graph = found[0]
    rules: list[Rule] = []
    for authorization in _authorizations(graph, url):
        access_to = (authorization, ACL.accessTo, URIRef(url)) in graph
        default = (authorization, ACL.default, URIRef(url)) in graph
        modes = frozenset(_MODE_NAMES[m] for m in _modes(graph, authorization) if m in _MODE_NAMES)
        if not modes:
            continue
        for subject in _describe(graph, authorization):
            rules.append(Rule(subject, modes, default, access_to))
    return rules


def _describe(graph: Graph, authorization: Node) -> Iterator[str]:
    """``Rule.subject`` strings for each access subject of ``authorization``."""
    suffix = "".join(f" (origin {o})" for o in sorted(map(str, graph.objects(authorization, ACL.origin))))
    for condition in graph.objects(authorization, ACL.condition):
        if (condition, RDF.type, ACL.IssuerCondition) in graph:
            suffix += "".join(
                f" (issuer {i})" for i in sorted(map(str, graph.objects(condition, ACL.issuer)))
            )
    clients = sorted(_clients(graph, authorization))
    for predicate, value in sorted(_subjects(graph, authorization)):
        if predicate == ACL.agent:
            name, for_name = f"agent {value}", str(value)
        elif predicate == ACL.agentGroup:
            name = for_name = f"group {value}"
        elif value == FOAF.Agent:
            name = for_name = "public"
        elif value == ACL.AuthenticatedAgent:
            name = for_name = "authenticated"
        else:
            name = for_name = f"class {value}"
        if clients:
            for client in clients:
                yield f"app {client} for {for_name}{suffix}"
        else:
            yield name + suffix


# -- changing --------------------------------------------------------------------------------------
def grant(
    pod: Pod,
    url: str,
    modes: Iterable[str],
    *,
    agent: str | None = None,
    group: str | None = None,
    public: bool = False,
    authenticated: bool = False,
    app: str | None = None,
    default: bool | None = None,
) -> None:
    """Give ``modes`` on ``url`` to exactly one of ``agent``, ``group``, ``public`` or
    ``authenticated``; with ``app``, only through that client (an ``acl:ClientCondition``).

    ``default`` (``acl:default``: children inherit the rule) is ``True`` for a container unless
    given, and must stay ``False`` for a non-container. The modes join an existing rule for the
    same subject, app and targets when there is one; otherwise a new ``acl:Authorization`` is
    added. Other rules are left as they are."""
    terms = _mode_terms(modes)
    subject = _subject(agent, group, public, authenticated)
    container = url.endswith("/")
    if default is None:
        default = container
    if default and not container:
        raise ValueError(f"default=True needs a container (a URL ending in '/'): {url}")
    document = _load(pod, url)
    graph = document.graph
    node = _exclusive_rule(graph, url, subject, app, default)
    changed = node is None
    if node is None:
        node = _new_node(graph, document.url, _hint(subject, app))
        graph.add((node, RDF.type, ACL.Authorization))
        graph.add((node, *subject))
        graph.add((node, ACL.accessTo, URIRef(url)))
        if default:
            graph.add((node, ACL.default, URIRef(url)))
        if app is not None:
            _add_client_condition(graph, node, [app])
    for term in terms:
        if (node, ACL.mode, term) not in graph:
            graph.add((node, ACL.mode, term))
            changed = True
    if not document.own:
        changed = _keep_control(pod, document, url) or changed
    if changed:
        _save(pod, document)


def revoke(
    pod: Pod,
    url: str,
    modes: Iterable[str] | None = None,
    *,
    agent: str | None = None,
    group: str | None = None,
    public: bool = False,
    authenticated: bool = False,
    app: str | None = None,
) -> None:
    """Take ``modes`` (all of them when ``None``) on ``url`` away from exactly one of ``agent``,
    ``group``, ``public`` or ``authenticated``.

    Without ``app`` every rule naming that subject loses the modes, whatever app or origin it is
    restricted to; with ``app`` only the rules restricted to that client do. A rule naming several
    subjects (or clients) is split so that the others keep their access. ``public`` and
    ``authenticated`` are separate subjects: revoking one leaves the other.

    Raises ``ValueError`` instead of removing the last ``acl:Control`` that the logged-in WebID
    holds on ``url`` (by a rule naming it, or the public or authenticated agents, whose conditions
    this session meets; membership of groups is not looked up). Nothing is written when nothing
    matches."""
    remove = set(_mode_terms(modes)) if modes is not None else set(_MODE_TERMS.values())
    if ACL.Append in remove:
        remove.add(ACL.Write)  # WAC §4.2: Write includes Append, so Append cannot go while Write stays
    subject = _subject(agent, group, public, authenticated)
    document = _load(pod, url)
    graph = document.graph
    held_control = _holds_control(pod, graph, url)
    changed = False
    for authorization in list(_authorizations(graph, url)):
        if subject not in _subjects(graph, authorization):
            continue
        clients = _clients(graph, authorization)
        if app is not None and app not in clients:
            continue
        current = _modes(graph, authorization)
        if not current & remove:
            continue
        changed = True
        alone = _subjects(graph, authorization) == {subject} and (app is None or clients == {app})
        if alone:
            for term in remove:
                graph.remove((authorization, ACL.mode, term))
            if not _modes(graph, authorization):
                _drop(graph, authorization)
            continue
        # Shared with other subjects or clients: take this subject out, then give it back what it keeps.
        if app is not None and clients - {app}:
            _clone(graph, document.url, authorization, subject, current, clients - {app})
        if current - remove:
            _clone(
                graph,
                document.url,
                authorization,
                subject,
                current - remove,
                {app} if app is not None else None,
            )
        _remove_subject(graph, authorization, subject)
    if not changed:
        return
    if held_control and not _holds_control(pod, graph, url):
        raise ValueError(
            f"refusing to revoke: {pod.session.webid} would lose its last Control of {url} and could "
            "no longer read or change its ACL. Grant Control to that WebID by another rule first "
            "(for example grant(pod, url, ['Control'], agent=...))"
        )
    _save(pod, document)


# -- the ACL document ------------------------------------------------------------------------------
def _load(pod: Pod, url: str) -> _Document:
    """``url``'s own ACL; or, when it has none (404), a new one holding the inherited rules."""
    acl = acl_url(pod, url)
    found = _get(pod, acl)
    if found is None:
        return _Document(acl, _inherited(pod, url, acl), None, own=False)
    graph, etag = found
    return _Document(acl, graph, etag, own=True)


def _save(pod: Pod, document: _Document) -> None:
    """PUT the ACL as Turtle: ``If-Match`` its ETag, or ``If-None-Match: *`` when it is new, so a
    concurrent change is not overwritten (RFC 9110 §13.1)."""
    headers = {"Content-Type": _TURTLE}
    if not document.own:
        headers["If-None-Match"] = "*"
    elif document.etag:
        headers["If-Match"] = document.etag
    body = document.graph.serialize(format="turtle").encode()
    raise_for_status(pod.session.request("PUT", document.url, headers=headers, data=body))


def _get(pod: Pod, acl: str) -> tuple[Graph, str | None] | None:
    """The ACL resource ``acl`` as a graph, with its ETag; ``None`` when it does not exist (404)."""
    response = pod.session.request("GET", acl, headers={"Accept": _TURTLE})
    if response.status_code == 404:
        return None
    raise_for_status(response)
    return _parse(response, acl), response.headers.get("ETag")


def _parse(response: Any, base: str) -> Graph:
    media_type = response.headers.get("Content-Type", _TURTLE).split(";", 1)[0].strip().lower()
    graph = _new_graph()
    try:
        graph.parse(data=response.content, format=_PARSERS.get(media_type, "turtle"), publicID=base)
    except Exception as exc:  # rdflib raises many types; the message names the problem
        raise PodClientError(f"the ACL is not readable RDF ({media_type}): {exc}", url=base) from exc
    return graph


def _new_graph() -> Graph:
    graph = Graph()
    graph.bind("acl", ACL._NS)
    graph.bind("foaf", FOAF._NS)
    return graph


def _inherited(pod: Pod, url: str, acl: str) -> Graph:
    """The rules ``url`` inherits (WAC "Effective ACL Resource": the ``acl:default`` rules of the
    nearest container with an ACL), copied and re-targeted to ``url``."""
    graph = _new_graph()
    container = parent(url)
    while container is not None:
        found = _get(pod, acl_url(pod, container))
        if found is None:
            container = parent(container)
            continue
        source = found[0]
        for authorization in sorted(source.subjects(RDF.type, ACL.Authorization), key=str):
            if (authorization, ACL.default, URIRef(container)) not in source:
                continue
            node = _new_node(graph, acl, _fragment(authorization) or "inherited")
            for predicate, value in source.predicate_objects(authorization):
                if predicate not in (ACL.accessTo, ACL.default):
                    graph.add((node, predicate, _copy(source, graph, value)))
            graph.add((node, ACL.accessTo, URIRef(url)))
            if url.endswith("/"):
                graph.add((node, ACL.default, URIRef(url)))
        return graph
    raise PodClientError(f"no ACL governs {url}: neither it nor any container above it has one", url=url)


def _fragment(node: Node) -> str | None:
    """The fragment of a rule IRI (``owner`` in ``<.acl#owner>``), kept when rules are copied."""
    if not isinstance(node, URIRef) or "#" not in node:
        return None
    return str(node).rsplit("#", 1)[1] or None


def _copy(source: Graph, target: Graph, value: Node) -> Node:
    """``value``, with blank nodes (conditions) copied into ``target`` as fresh ones."""
    if not isinstance(value, BNode):
        return value
    fresh = BNode()
    for predicate, inner in source.predicate_objects(value):
        target.add((fresh, predicate, _copy(source, target, inner)))
    return fresh


# -- rules -----------------------------------------------------------------------------------------
def _authorizations(graph: Graph, url: str) -> list[Node]:
    """The ``acl:Authorization`` nodes naming ``url`` in ``acl:accessTo`` or ``acl:default``."""
    target = URIRef(url)
    return sorted(
        (
            a
            for a in set(graph.subjects(RDF.type, ACL.Authorization))
            if (a, ACL.accessTo, target) in graph or (a, ACL.default, target) in graph
        ),
        key=str,
    )


def _subjects(graph: Graph, authorization: Node) -> set[Subject]:
    return {
        (predicate, value)
        for predicate in _SUBJECT_PREDICATES
        for value in graph.objects(authorization, predicate)
        if isinstance(value, URIRef)
    }


def _modes(graph: Graph, authorization: Node) -> set[Node]:
    return set(graph.objects(authorization, ACL.mode))


def _clients(graph: Graph, authorization: Node) -> set[str]:
    """The client ids of the rule's ``acl:ClientCondition`` (any of them satisfies it)."""
    return {
        str(client)
        for condition in graph.objects(authorization, ACL.condition)
        if (condition, RDF.type, ACL.ClientCondition) in graph
        for client in graph.objects(condition, ACL.client)
    }


def _only_client_condition(graph: Graph, authorization: Node, app: str) -> bool:
    conditions = list(graph.objects(authorization, ACL.condition))
    return (
        len(conditions) == 1
        and set(graph.objects(conditions[0], RDF.type)) == {ACL.ClientCondition}
        and {str(c) for c in graph.objects(conditions[0], ACL.client)} == {app}
    )


def _exclusive_rule(graph: Graph, url: str, subject: Subject, app: str | None, default: bool) -> Node | None:
    """A rule for exactly ``subject`` (through exactly ``app``) and exactly these targets, with no
    origin: adding modes to it changes nobody else's access."""
    target = URIRef(url)
    for authorization in _authorizations(graph, url):
        if _subjects(graph, authorization) != {subject}:
            continue
        if set(graph.objects(authorization, ACL.accessTo)) != {target}:
            continue
        if set(graph.objects(authorization, ACL.default)) != ({target} if default else set()):
            continue
        if (authorization, ACL.origin, None) in graph:
            continue
        if app is None:
            if (authorization, ACL.condition, None) in graph:
                continue
        elif not _only_client_condition(graph, authorization, app):
            continue
        return authorization
    return None


def _client_term(client: str) -> Identifier:
    """A client id as written in ``acl:client``: an IRI (a Client ID Document) when it is an
    absolute IRI, else a literal (client credentials and static clients have plain ids)."""
    parts = urlsplit(client)
    if (parts.scheme in {"http", "https"} and parts.netloc) or parts.scheme == "urn":
        return URIRef(client)
    return Literal(client)


def _add_client_condition(graph: Graph, node: Node, clients: Iterable[str]) -> None:
    condition = BNode()
    graph.add((node, ACL.condition, condition))
    graph.add((condition, RDF.type, ACL.ClientCondition))
    for client in sorted(clients):
        graph.add((condition, ACL.client, _client_term(client)))


def _clone(
    graph: Graph, acl: str, authorization: Node, subject: Subject, modes: set[Node], clients: set[str] | None
) -> None:
    """A copy of ``authorization`` for ``subject`` alone with ``modes``; its client condition
    replaced by one for ``clients`` (kept as it is when ``None``)."""
    node = _new_node(graph, acl, _hint(subject, None if clients is None else "app"))
    for predicate, value in list(graph.predicate_objects(authorization)):
        if predicate in _SUBJECT_PREDICATES or predicate == ACL.mode:
            continue
        if (
            predicate == ACL.condition
            and clients is not None
            and (value, RDF.type, ACL.ClientCondition) in graph
        ):
            continue
        graph.add((node, predicate, _copy(graph, graph, value)))
    graph.add((node, *subject))
    for mode in modes:
        graph.add((node, ACL.mode, mode))
    if clients is not None:
        _add_client_condition(graph, node, clients)


def _remove_subject(graph: Graph, authorization: Node, subject: Subject) -> None:
    """Take ``subject`` out of ``authorization``; drop the rule when no subject is left (a rule
    left with only ``acl:origin`` would admit anyone from that origin)."""
    graph.remove((authorization, *subject))
    if not _subjects(graph, authorization):
        _drop(graph, authorization)


def _drop(graph: Graph, node: Node) -> None:
    for _, value in list(graph.predicate_objects(node)):
        if isinstance(value, BNode):
            _drop(graph, value)
    graph.remove((node, None, None))


def _new_node(graph: Graph, acl: str, hint: str) -> URIRef:
    """A fresh rule IRI in the ACL document: ``<acl#hint>``, ``<acl#hint-2>``, ..."""
    candidate, n = URIRef(f"{acl}#{hint}"), 1
    while (candidate, None, None) in graph or (None, None, candidate) in graph:
        n += 1
        candidate = URIRef(f"{acl}#{hint}-{n}")
    return candidate


def _hint(subject: Subject, app: str | None) -> str:
    predicate, value = subject
    if predicate == ACL.agent:
        name = "agent"
    elif predicate == ACL.agentGroup:
        name = "group"
    else:
        name = "public" if value == FOAF.Agent else "authenticated"
    return f"{name}-app" if app is not None else name


def _subject(agent: str | None, group: str | None, public: bool, authenticated: bool) -> Subject:
    chosen: list[Subject] = []
    if agent is not None:
        chosen.append((ACL.agent, URIRef(agent)))
    if group is not None:
        chosen.append((ACL.agentGroup, URIRef(group)))
    if public:
        chosen.append((ACL.agentClass, FOAF.Agent))
    if authenticated:
        chosen.append((ACL.agentClass, ACL.AuthenticatedAgent))
    if len(chosen) != 1:
        raise ValueError(
            "name exactly one of agent=<WebID>, group=<group URL>, public=True or authenticated=True"
        )
    return chosen[0]


def _mode_terms(modes: Iterable[str]) -> list[URIRef]:
    if isinstance(modes, str):
        modes = [modes]
    terms: list[URIRef] = []
    for mode in modes:
        name = mode.rsplit("#", 1)[-1].removeprefix("acl:").lower()
        if name not in _MODE_TERMS:
            raise ValueError(f"unknown access mode {mode!r}: use {', '.join(MODES)}")
        terms.append(_MODE_TERMS[name])
    if not terms:
        raise ValueError(f"name at least one access mode: {', '.join(MODES)}")
    return terms


# -- the logged-in agent's Control -----------------------------------------------------------------
def _holds_control(pod: Pod, graph: Graph, url: str) -> bool:
    """Whether ``graph`` gives the session's WebID ``acl:Control`` of ``url`` by a rule the client
    can check: one naming the WebID, or public / authenticated agents, with every condition met by
    this session (its client id, its issuer). Group membership is not looked up."""
    session = pod.session
    webid = getattr(session, "webid", None)
    if webid is None:
        return False
    holders = {
        (ACL.agent, URIRef(webid)),
        (ACL.agentClass, FOAF.Agent),
        (ACL.agentClass, ACL.AuthenticatedAgent),
    }
    for authorization in _authorizations(graph, url):
        if (authorization, ACL.accessTo, URIRef(url)) not in graph:
            continue
        if (authorization, ACL.mode, ACL.Control) not in graph:
            continue
        if not _subjects(graph, authorization) & holders:
            continue
        if all(_condition_met(graph, c, session) for c in graph.objects(authorization, ACL.condition)):
            return True
    return False


def _condition_met(graph: Graph, condition: Node, session: Any) -> bool:
    types = set(graph.objects(condition, RDF.type))
    if types == {ACL.ClientCondition}:
        client = getattr(session, "client_id", None)
        return client is not None and client in {str(c) for c in graph.objects(condition, ACL.client)}
    if types == {ACL.IssuerCondition}:
        issuer = getattr(session, "issuer", None)
        allowed = {str(i).rstrip("/") for i in graph.objects(condition, ACL.issuer)}
        return issuer is not None and str(issuer).rstrip("/") in allowed
    return False


def _keep_control(pod: Pod, document: _Document, url: str) -> bool:
    """Make sure the logged-in WebID keeps ``acl:Control`` of ``url`` in a new ACL (it had it, or it
    could not write the ACL at all). Returns whether a rule was added."""
    webid = getattr(pod.session, "webid", None)
    if webid is None or _holds_control(pod, document.graph, url):
        return False
    node = _new_node(document.graph, document.url, "control")
    document.graph.add((node, RDF.type, ACL.Authorization))
    document.graph.add((node, ACL.agent, URIRef(webid)))
    document.graph.add((node, ACL.accessTo, URIRef(url)))
    if url.endswith("/"):
        document.graph.add((node, ACL.default, URIRef(url)))
    document.graph.add((node, ACL.mode, ACL.Control))
    return True


__all__ = ["ACL", "MODES", "Rule", "acl_url", "grant", "revoke", "show"]
