"""The community service: what every community endpoint (memberships here; ledger and governance
in their own modules) does to a community pod.

Invariants:

- every write goes through the :class:`~pod_server.store.resource_store.ResourceStore`, so shape
  constraints (``ldp:constrainedBy``), change events and notifications apply to the server's
  writes exactly as to a client's;
- the server reads what members keep in their own pods *as the community agent* ``C``
  (:class:`~pod_server.community.agent.CommunityAgent`), with the access they granted ``C``;
- the derived groups (``{c}groups/``) list exactly the confirmed, unended memberships of the
  roster after every change made here (:meth:`CommunityService.derive_groups`);
- state-changing actions on one community run one at a time (:meth:`CommunityService.lock`:
  a thread lock in this process plus the backend's lock across processes). The lock is not
  re-entrant: take it once, around the whole action (the HTTP layer does).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from pod_server.access.credentials import Credentials
from pod_server.access.groups import local_path
from pod_server.community import halves, roster
from pod_server.community.agent import CommunityAgent
from pod_server.community.halves import Half
from pod_server.community.layout import new_graph
from pod_server.community.model import MEMBER, Community, Member, member_key, role_name
from pod_server.community.policy import Policy
from pod_server.errors import BadRequest, Conflict, Forbidden, NotFound, PodError, Unauthorized
from pod_server.rdf import formats
from pod_server.rdf.convert import serialize
from pod_server.shapes import ShapeLibrary
from pod_server.store.resource_store import ResourceStore
from pod_server.vocab import AS, CBPP, FOAF, ORG, RDF, VCARD, XSD

LOCK_NAME = ".well-known/community"
"""The backend lock key inside a community pod (a path the store itself never locks)."""
_MAX_NAME_ATTEMPTS = 20


def utcnow() -> datetime:
    return datetime.now(UTC)


class CommunityService:
    """Communities on one server. Thread-safe; one per app (``app.extensions["pod_server.community"]``)."""

    def __init__(
        self,
        store: ResourceStore,
        agent: CommunityAgent,
        shapes: ShapeLibrary,
        *,
        issuer: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.ids = store.ids
        self.agent = agent
        self.shapes = shapes
        self.issuer = issuer
        self.clock = clock
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- finding -------------------------------------------------------------------------------
    def find(self, path_or_url: str) -> Community:
        """The community whose pod holds ``path_or_url`` (a storage path or a URL on this server);
        404 when it is not inside a community pod (a pod whose profile says ``C a cbpp:Community``)."""
        path = path_or_url if path_or_url.startswith("/") else local_path(self.ids, path_or_url)
        root = None if path is None or self.ids.single_pod else self.ids.storage_root(path)
        if root is None:
            raise NotFound(f"{path_or_url} is not inside a community on this server")
        c = Community.of(root, self.ids.to_url(root))
        try:
            profile = self.read_graph(c, "profile/card")
        except (NotFound, Conflict):
            raise NotFound(f"there is no community at {c.url}") from None
        if (URIRef(c.webid), RDF.type, CBPP.Community) not in profile:
            raise NotFound(f"{c.url} is a pod but not a community")
        return c

    def title(self, c: Community) -> str | None:
        found = self.read_graph(c, "profile/card").value(URIRef(c.webid), FOAF.name)
        return str(found) if isinstance(found, Literal) else None

    # -- reading and writing the community pod ---------------------------------------------------
    def read_graph(self, c: Community, relative: str) -> Graph:
        """The RDF stored at ``{c}{relative}`` (404 when missing)."""
        return self.store.graph_of(c.path_of(relative), c.at(relative))

    def write_graph(self, c: Community, relative: str, graph: Graph) -> str:
        """Create or replace ``{c}{relative}`` with ``graph`` as Turtle; returns its URL."""
        url = c.at(relative)
        self.store.put(c.path_of(relative), serialize(graph, formats.TURTLE, url), formats.TURTLE, url)
        return url

    def post_graph(
        self,
        c: Community,
        container_relative: str,
        graph_for: Callable[[str], Graph],
        slug: str | None = None,
    ) -> str:
        """Create a new document in the container ``{c}{container_relative}``, named ``slug`` when
        that is free, else a random name; ``graph_for`` gets the new URL. Returns the URL. Never
        replaces an existing document (the name is taken under the store's lock)."""
        if not container_relative.endswith("/"):
            raise ValueError("post_graph needs a container (ending in '/')")

        def must_be_new(current: object) -> None:
            if current is not None:
                raise _Taken

        for attempt in range(_MAX_NAME_ATTEMPTS):
            name = slug if slug and attempt == 0 else (f"{slug}-" if slug else "") + uuid.uuid4().hex[:12]
            relative = container_relative + name
            url = c.at(relative)
            body = serialize(graph_for(url), formats.TURTLE, url)
            try:
                self.store.put(c.path_of(relative), body, formats.TURTLE, url, check=must_be_new)
            except _Taken:
                continue
            return url
        raise Conflict(f"could not find a free name in {c.at(container_relative)}")

    # -- roles, policy, roster -----------------------------------------------------------------
    def roles(self, c: Community) -> dict[str, str]:
        """Role IRI -> name, for every ``org:Role`` of ``{c}roles`` named ``{c}roles#name``."""
        found: dict[str, str] = {}
        for role in self.read_graph(c, "roles").subjects(RDF.type, ORG.Role):
            name = role_name(c, str(role))
            if isinstance(role, URIRef) and name:
                found[str(role)] = name
        return found

    def role(self, c: Community, name: str) -> str:
        """The IRI of the role called ``name``; 400 naming the roles when there is none."""
        roles = self.roles(c)
        iri = c.role(name)
        if iri not in roles:
            raise BadRequest(
                f"{c.url} has no role {name!r}; its roles are {', '.join(sorted(roles.values()))}"
            )
        return iri

    def policy(self, c: Community) -> Policy:
        """The ODRL policy the profile names with ``cbpp:governedBy`` (model §3)."""
        profile = self.read_graph(c, "profile/card")
        policy = profile.value(URIRef(c.webid), CBPP.governedBy)
        if not isinstance(policy, URIRef) or not str(policy).startswith(c.url):
            return Policy({})
        document = str(policy).split("#", 1)[0][len(c.url) :]
        try:
            return Policy.from_graph(self.read_graph(c, document), str(policy))
        except (NotFound, Conflict):
            return Policy({})

    def half(self, c: Community, webid: str) -> tuple[Half, Graph] | None:
        """``webid``'s community half and its document, or ``None``."""
        relative = "members/" + member_key(webid)
        try:
            graph = self.read_graph(c, relative)
        except (NotFound, Conflict):
            return None
        found = halves.parse_half(c, c.at(relative), graph)
        return None if found is None or found.webid != webid else (found, graph)

    def halves(self, c: Community) -> list[Half]:
        found: list[Half] = []
        for child in self.store.read_container(c.path_of("members/")).children:
            if child.is_container:
                continue
            url = self.ids.to_url(child.path)
            try:
                graph = self.store.graph_of(child.path, url)
            except (NotFound, Conflict):
                continue
            half = halves.parse_half(c, url, graph)
            # Only the predictable name counts: a half stored elsewhere in members/ is not one.
            if half is not None and c.half_of(half.webid) == half.node:
                found.append(half)
        return found

    def roster(self, c: Community) -> list[Member]:
        """Every community half with its confirmation (member halves read as ``C``)."""
        return [roster.member_of(self.agent, c, h) for h in self.halves(c)]

    def recorded_roster(self, c: Community) -> list[Member]:
        """The roster as last derived, from this pod alone: a membership counts as confirmed when
        the members group lists it (the group is rewritten after every change and ``sync``).
        For readers: unlike :meth:`roster`, it never reads other pods, so an anonymous request
        cannot make the server send one request per member elsewhere."""
        try:
            group = self.read_graph(c, "groups/members")
        except (NotFound, Conflict):
            group = Graph()
        listed = {str(w) for w in group.objects(URIRef(c.group("members")), VCARD.hasMember)}
        return [
            Member(
                webid=h.webid,
                roles=h.roles,
                confirmed=not h.ended and h.member_half is not None and h.webid in listed,
                ended=h.ended,
                community_half=h.node,
                member_half=h.member_half,
                since=h.since,
                problem=None,
            )
            for h in self.halves(c)
        ]

    def member(self, c: Community, webid: str) -> Member | None:
        found = self.half(c, webid)
        return None if found is None else roster.member_of(self.agent, c, found[0])

    def require(self, c: Community, credentials: Credentials, action: URIRef) -> Member:
        """The requester as a confirmed member whose roles the policy grants ``action``; 401 for
        the public, 403 (naming the roles that may) otherwise."""
        what = str(action).rsplit("#", 1)[-1]
        if credentials.webid is None:
            raise Unauthorized(f"log in to {what} in {c.url}")
        allowed = self.policy(c).roles_for(str(action))
        names = sorted(role_name(c, r) or r for r in allowed)
        may = f"only confirmed members with the role {' or '.join(names)} may" if names else "nobody may"
        found = self.member(c, credentials.webid)
        if found is None or not found.active:
            state = "not a confirmed member" if found is None or not found.ended else "no longer a member"
            raise Forbidden(f"{may} {what} in {c.url}; {credentials.webid} is {state}")
        if not allowed & found.roles:
            mine = sorted(role_name(c, r) or r for r in found.roles)
            raise Forbidden(f"{may} {what} in {c.url}; your roles are {', '.join(mine) or 'none'}")
        return found

    # -- changing the roster -------------------------------------------------------------------
    def derive_groups(self, c: Community, members: list[Member] | None = None) -> list[Member]:
        """Rewrite ``{c}groups/members`` and ``{c}groups/{role}`` from the roster (documents
        that did not change are left alone; groups of roles that no longer exist are deleted).
        Returns the roster it used, so callers need not confirm every membership again."""
        if members is None:
            members = self.roster(c)
        derived = roster.groups(c, members, self.roles(c))
        for name, graph in derived.items():
            relative = f"groups/{name}"
            try:
                if isomorphic(self.read_graph(c, relative), graph):
                    continue
            except (NotFound, Conflict):
                pass
            self.write_graph(c, relative, graph)
        for child in self.store.read_container(c.path_of("groups/")).children:
            name = child.path[len(c.path_of("groups/")) :]
            if not child.is_container and name not in derived:
                with suppress(NotFound):
                    self.store.delete(child.path)
        return members

    def admit(
        self,
        c: Community,
        webid: str,
        roles: Iterable[str],
        *,
        generated_by: str,
        member_half: str | None = None,
        actor: str | None = None,
    ) -> str:
        """Write (or overwrite) ``webid``'s community half with ``roles`` (role IRIs; the member
        role is always added) and return its node IRI. Groups are NOT re-derived here: call
        :meth:`derive_groups` once the action is done.

        ``generated_by`` is the IRI of what made the membership (a decision event, the founding)
        or ``#invite`` / ``#accept`` (then described in the half, by ``actor``). Without
        ``member_half`` this is an invitation, except that a current member's existing link is
        kept (an admission by decision must not unconfirm someone already confirmed).
        """
        given = frozenset(roles) | {c.role(MEMBER)}
        if member_half is None:
            existing = self.half(c, webid)
            if existing is not None and not existing[0].ended:
                member_half = existing[0].member_half
        graph = halves.half_graph(
            c, webid, given, generated_by=generated_by, now=self.clock(), member_half=member_half, actor=actor
        )
        self.write_graph(c, "members/" + member_key(webid), graph)
        return c.half_of(webid)

    def confirm(self, c: Community, webid: str, member_half: str, *, actor: str) -> str:
        """Link the existing community half of ``webid`` to ``member_half`` with an ``<#accept>``
        by ``actor`` (the caller has checked the member half). 404 when there is no current half."""
        found = self.half(c, webid)
        if found is None or found[0].ended:
            raise NotFound(f"{webid} has no invitation to {c.url}")
        half, graph = found
        self.write_graph(
            c,
            "members/" + member_key(webid),
            halves.confirmed_graph(graph, half, member_half, actor=actor, now=self.clock()),
        )
        return half.node

    def end_membership(
        self,
        c: Community,
        webid: str,
        *,
        generated_by: str,
        activity: URIRef,
        actor: str | None = None,
    ) -> None:
        """End ``webid``'s membership: ``time:hasEnd`` now and ``prov:wasInvalidatedBy`` the
        ending activity, then re-derive the groups and tell W (best effort).

        ``generated_by`` is ``#leave`` (W left: described in the half as an ``as:Leave`` by W)
        or the IRI of what removed W (a decision event; W is sent ``activity``, e.g.
        ``as:Remove``). 404 when ``webid`` has no current membership.
        """
        found = self.half(c, webid)
        if found is None or found[0].ended:
            raise NotFound(f"{webid} is not a member of {c.url}")
        half, graph = found
        document = halves.document_of(half.node)
        local = generated_by.startswith("#")
        ended_by = URIRef(document + generated_by if local else generated_by)
        ended = halves.ended_graph(
            graph,
            half,
            ended_by=ended_by,
            kind=activity if local else None,
            actor=(actor or webid) if local else None,
            now=self.clock(),
        )
        self.write_graph(c, "members/" + member_key(webid), ended)
        self.derive_groups(c)
        if not local:
            self.announce(c, webid, activity, URIRef(half.node))

    # -- notifications ---------------------------------------------------------------------------
    def announce(
        self, c: Community, target: str, kind: URIRef, obj: URIRef, summary: str | None = None
    ) -> bool:
        """LDN to ``target``'s inbox, from ``C``: ``[] a kind; as:actor C; as:object obj;
        as:target target``. Best effort: False when it could not be delivered."""
        graph = new_graph()
        activity = URIRef(f"urn:uuid:{uuid.uuid4()}")
        graph.add((activity, RDF.type, kind))
        graph.add((activity, AS.actor, URIRef(c.webid)))
        graph.add((activity, AS.object, obj))
        graph.add((activity, AS.target, URIRef(target)))
        graph.add((activity, AS.published, Literal(halves.timestamp(self.clock()), datatype=XSD.dateTime)))
        if summary:
            graph.add((activity, AS.summary, Literal(summary)))
        return self.agent.notify(c.webid, target, graph)

    # -- serialising actions ---------------------------------------------------------------------
    @contextmanager
    def lock(self, c: Community) -> Iterator[None]:
        """Hold the community: one state-changing action at a time, across threads and processes."""
        with self._guard:
            lock = self._locks.setdefault(c.path, threading.Lock())
        with lock, self.store.backend.lock(c.path + LOCK_NAME):
            yield


class _Taken(PodError):
    """post_graph's name was taken meanwhile (internal: never leaves this module)."""


__all__ = ["LOCK_NAME", "CommunityService", "utcnow"]
