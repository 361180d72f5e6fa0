"""The ResourceStore: every Solid storage rule, in one place, over a dumb Backend.

Rules kept here (Solid Protocol 0.11 section numbers):

- §3.1 slash semantics: ``/a/b`` and ``/a/b/`` never both exist;
- §5.3 PUT and PATCH create missing intermediate containers;
- §5.3 POST creates a child of the target container, named from the Slug where possible;
- §5.3 / §5.2 containment triples are the server's: a body that states ``ldp:contains`` about
  a container is refused with 409;
- §5.4 deleting a non-empty container is refused (409); the storage root cannot be deleted (405);
  deleting a resource deletes its auxiliary resources;
- §4.3 auxiliary resources (description ``.meta``, ACL ``.acl``) live and die with their subject,
  hold RDF, and are not listed as children;
- §5.1 what is accepted as RDF is stored as Turtle, so it can be served in every RDF format;
- LDP §4.2.1.6 a container may be constrained (``ldp:constrainedBy`` in its description): every
  document written directly inside it is checked by :mod:`pod_server.store.constraints` before
  anything is written (intermediate containers included).

Every write runs under the backend's lock for the target path, with preconditions checked inside
the lock (so If-Match cannot race), and inside one backend transaction. After the write commits,
the store sends a change event (:mod:`pod_server.store.events`).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from blinker import NamedSignal
from rdflib import Graph

from pod_server.errors import (
    Conflict,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from pod_server.ldp.identifiers import (
    AUXILIARY_SUFFIXES,
    IdentifierMap,
    is_auxiliary,
    subject_of,
)
from pod_server.rdf import formats
from pod_server.rdf.convert import check_graph, parse, serialize
from pod_server.rdf.limits import RdfLimits
from pod_server.rdf.patch import Patch
from pod_server.store import events
from pod_server.store.backend import CONTAINER_TYPE, Backend, Meta, Stored, ancestors, parent_of
from pod_server.store.constraints import Constraint, Constraints, NoConstraints
from pod_server.vocab import LDP

Check = Callable[[Meta | None], None]
"""A precondition check, called under the lock with the target's current metadata (or None)."""


def _no_check(_: Meta | None) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Written:
    meta: Meta
    created: bool
    parents_created: tuple[Meta, ...] = ()


@dataclass(frozen=True, slots=True)
class ContainerView:
    """A container as stored: its own body (Turtle, may be empty) and one page of its children."""

    meta: Meta
    own_body: bytes
    children: list[Meta]
    next_after: str | None
    is_storage_root: bool


_AUX_SUFFIXES = tuple(AUXILIARY_SUFFIXES.values())
_MAX_NAME_ATTEMPTS = 20


def _candidate_name(name: str, attempt: int) -> str:
    """The slug as given first; then (or without a slug) with a random suffix."""
    if name and attempt == 0:
        return name
    return f"{name}-{secrets.token_hex(4)}" if name else secrets.token_hex(8)


def _twin(path: str) -> str:
    """``/a/b`` <-> ``/a/b/``: Solid Protocol §3.1 says only one of them may exist."""
    return path[:-1] if path.endswith("/") else path + "/"


def _lock_key(path: str) -> str:
    """One lock for a name and its twin, so a document and a container of that name can't race."""
    return path[:-1] if path.endswith("/") and path != "/" else path


_SLUG_STRIP = re.compile(r"[\x00-\x1f\x7f/\\?#]+")
MAX_SLUG_LENGTH = 100


class ResourceStore:
    """Solid rules over a Backend. Methods take canonical storage paths (see ``ldp.identifiers``)."""

    def __init__(
        self,
        backend: Backend,
        ids: IdentifierMap,
        limits: RdfLimits,
        constraints: Constraints | None = None,
    ) -> None:
        self.backend = backend
        self.ids = ids
        self.limits = limits
        self.constraints: Constraints = constraints if constraints is not None else NoConstraints()

    # -- reading ---------------------------------------------------------------------------
    def stat(self, path: str) -> Meta:
        self._check_addressable(path)
        return self.backend.stat(path)

    def read(self, path: str) -> Stored:
        self._check_addressable(path)
        return self.backend.read(path)

    def read_container(
        self, path: str, *, after: str | None = None, limit: int | None = None
    ) -> ContainerView:
        stored = self.backend.read(path)
        # Fetch one extra child per auxiliary suffix so filtering still fills the page.
        fetch = None if limit is None else limit + 1
        children: list[Meta] = []
        cursor = after
        while True:
            batch = self.backend.children(path, after=cursor, limit=fetch)
            # A child is auxiliary exactly when it is a document with an auxiliary suffix
            # (identifiers.subject_of); containers end in "/", so the suffix test alone decides.
            children.extend(m for m in batch if not m.path.endswith(_AUX_SUFFIXES))
            if fetch is None or len(batch) < fetch or (limit is not None and len(children) > limit):
                break
            cursor = batch[-1].path
        next_after = None
        if limit is not None and len(children) > limit:
            children = children[:limit]
            next_after = children[-1].path
        return ContainerView(stored.meta, stored.body, children, next_after, self.ids.is_storage_root(path))

    def graph_of(self, path: str, base: str) -> Graph:
        """The stored RDF of a document or the own triples of a container (not its containment)."""
        stored = self.backend.read(path)
        if not stored.meta.is_container and not formats.is_rdf(stored.meta.content_type):
            raise Conflict(f"{path} is not an RDF source")
        return self._parse_stored(stored, base)

    # -- writing ---------------------------------------------------------------------------
    def put(
        self, path: str, data: bytes, content_type: str, base: str, *, check: Check = _no_check
    ) -> Written:
        """Create or replace ``path`` (Solid Protocol §5.3)."""
        self._check_writable(path)
        body, stored_type, graph = self._prepare(path, data, content_type, base)
        constraint = self._constraint_on(path)
        if constraint is not None:  # before the lock: a shape may have to be fetched
            constraint.check(path, graph, stored_type)
        with self.backend.lock(_lock_key(path)):
            current = self._current(path)
            check(current)
            self._check_twin(path)
            self._check_subject_exists(path)
            written = self._write(path, body, stored_type, current is None)
        self._announce(written)
        return written

    def create_child(
        self,
        container: str,
        data: bytes,
        content_type: str,
        *,
        slug: str | None,
        as_container: bool,
        base_of: Callable[[str], str],
    ) -> Meta:
        """POST: create a new child of ``container`` (Solid Protocol §5.3)."""
        if not container.endswith("/"):
            raise MethodNotAllowed(
                "POST creates resources inside a container; this is not a container",
                allow=("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"),
            )
        self._check_writable(container)
        try:
            self.backend.stat(container)
        except NotFound:
            raise NotFound(f"the container {container} does not exist; create it first with PUT") from None
        # No container-wide lock: each candidate name is locked on its own, so POSTs into one
        # container run in parallel and two of them can never take the same name.
        name = sanitize_slug(slug) if slug else ""
        constraint = self.constraints.applying_to(container)
        prepared: tuple[str, bytes, str] | None = None
        for attempt in range(_MAX_NAME_ATTEMPTS):
            path = container + _candidate_name(name, attempt) + ("/" if as_container else "")
            if prepared is None or prepared[0] != path:
                # The body's base IRI is the new resource's URL, so parse it for this name.
                body, stored_type, graph = self._prepare(path, data, content_type, base_of(path))
                if constraint is not None:
                    constraint.check(path, graph, stored_type)
                prepared = (path, body, stored_type)
            with self.backend.lock(_lock_key(path)):
                if self._current(path) is not None or self._current(_twin(path)) is not None:
                    continue
                written = self._write(path, prepared[1], prepared[2], True)
            self._announce(written)
            return written.meta
        raise Conflict("could not find a free name in the container; try another Slug")

    def patch(self, path: str, patch: Patch, base: str, *, check: Check = _no_check) -> Written:
        """Apply an N3 Patch or SPARQL Update (Solid Protocol §5.3.1); a missing resource is created."""
        self._check_writable(path)
        constraint = self._constraint_on(path)
        with self.backend.lock(_lock_key(path)):
            current = self._current(path)
            check(current)
            self._check_twin(path)
            self._check_subject_exists(path)
            if current is None:
                graph = Graph(bind_namespaces="none")
            else:
                stored = self.backend.read(path)
                if not current.is_container and not formats.is_rdf(current.content_type):
                    raise Conflict(
                        f"{path} holds {current.content_type}, not RDF; only RDF sources can be patched"
                    )
                graph = self._parse_stored(stored, base)
            patch.apply(graph)
            # A patch may insert what no parser would have accepted (a bad language tag, an IRI
            # RDF/XML cannot write): hold the result to the same rules as a PUT body.
            check_graph(graph, self.limits)
            self._check_containment(path, graph, base)
            if constraint is not None:
                constraint.check(path, graph, formats.TURTLE)
            body = serialize(graph, formats.TURTLE, base)
            written = self._write(path, body, formats.TURTLE, current is None)
        self._announce(written)
        return written

    def delete(self, path: str, *, check: Check = _no_check) -> Meta:
        """Delete ``path`` and its auxiliary resources (Solid Protocol §5.4)."""
        if path == "/" or self.ids.is_storage_root(path):
            raise MethodNotAllowed(
                "the storage root cannot be deleted", allow=("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH")
            )
        return self._delete(path, check)

    def delete_storage_root(self, path: str) -> Meta:
        """Remove an emptied pod (its account is going away). Clients cannot do this over HTTP
        (Solid Protocol §5.4); the account service can. The server root ``/`` always stays."""
        if path == "/" or not self.ids.is_storage_root(path):
            raise Conflict(f"{path} is not a pod that can be removed")
        return self._delete(path, _no_check)

    def _delete(self, path: str, check: Check) -> Meta:
        self._check_writable(path)
        with self.backend.lock(_lock_key(path)):
            current = self._current(path)
            check(current)
            if current is None:
                raise NotFound(f"{path} does not exist")
            if path.endswith("/") and any(
                not is_auxiliary(c.path)
                for c in self.backend.children(path, limit=len(AUXILIARY_SUFFIXES) + 1)
            ):
                raise Conflict(f"{path} is not empty; delete its children first")
            aux_deleted: list[Meta] = []
            with self.backend.transaction():
                for suffix in AUXILIARY_SUFFIXES.values():
                    aux = path + suffix
                    try:
                        aux_meta = self.backend.stat(aux)
                    except NotFound:
                        continue
                    self.backend.delete(aux)
                    aux_deleted.append(aux_meta)
                self.backend.delete(path)
        for m in aux_deleted:
            self._emit(events.deleted, m)
        self._emit(events.deleted, current)
        return current

    # -- rules -----------------------------------------------------------------------------
    def _check_addressable(self, path: str) -> None:
        if self.ids.is_server_managed(path):
            raise NotFound(f"{path} does not exist")

    def _check_writable(self, path: str) -> None:
        if self.ids.is_server_managed(path):
            raise MethodNotAllowed("this resource is managed by the server", allow=("GET", "HEAD", "OPTIONS"))

    def _current(self, path: str) -> Meta | None:
        try:
            return self.backend.stat(path)
        except NotFound:
            return None

    def _check_twin(self, path: str) -> None:
        if path == "/":
            return
        twin = _twin(path)
        if self._current(twin) is not None:
            kind = "container" if twin.endswith("/") else "document"
            raise Conflict(
                f"a {kind} named {twin} already exists; a container and a document cannot share a name"
            )
        for ancestor in ancestors(path):
            if ancestor != "/" and self._current(ancestor[:-1]) is not None:
                raise Conflict(f"{ancestor[:-1]} is a document, so it cannot hold {path}")

    def _check_subject_exists(self, path: str) -> None:
        """Solid Protocol §4.3: an auxiliary resource belongs to an existing subject."""
        found = subject_of(path)
        if found is None:
            return
        subject, rel = found
        if self._current(subject) is None:
            suffix = AUXILIARY_SUFFIXES[rel]
            raise Conflict(
                f"names ending in {suffix} are reserved for the {rel} resource of another resource, "
                f"and {subject} does not exist"
            )

    def _prepare(
        self, path: str, data: bytes, content_type: str, base: str
    ) -> tuple[bytes, str, Graph | None]:
        """Validate a body for ``path`` and return what to store (RDF is kept as Turtle) and the
        parsed graph (``None`` for a body that is not RDF)."""
        if not formats.is_rdf(content_type):
            if path.endswith("/") and not data:
                return b"", CONTAINER_TYPE, None
            if path.endswith("/") or is_auxiliary(path):
                what = "A container" if path.endswith("/") else "An auxiliary resource"
                raise UnsupportedMediaType(
                    f"{what} holds RDF: send Content-Type text/turtle, application/ld+json, "
                    "application/n-triples, application/n-quads, application/rdf+xml or text/n3"
                )
            return data, content_type, None
        graph = parse(data, content_type, base, self.limits)
        self._check_containment(path, graph, base)
        if path.endswith("/") and len(graph) == 0:
            return b"", CONTAINER_TYPE, graph
        if formats.essence(content_type) == formats.TURTLE:
            # Keep the client's Turtle as it is: reading it back needs no re-serialisation.
            return data, formats.TURTLE, graph
        return serialize(graph, formats.TURTLE, base), formats.TURTLE, graph

    def _constraint_on(self, path: str) -> Constraint | None:
        """The constraint of the container ``path`` is directly inside (LDP §4.2.1.6), if any.
        Auxiliary resources, storage roots and the server root are never constrained."""
        if path == "/" or is_auxiliary(path) or self.ids.is_storage_root(path):
            return None
        return self.constraints.applying_to(parent_of(path))

    def _check_containment(self, path: str, graph: Graph, base: str) -> None:
        """Solid Protocol §5.3: the server manages containment triples; clients may not write them."""
        if (None, LDP.contains, None) in graph:
            raise Conflict(
                "the body contains ldp:contains triples; containment is managed by the server, remove them"
            )
        del path, base

    def _write(self, path: str, body: bytes, content_type: str, is_new: bool) -> Written:
        created_parents: list[Meta] = []
        with self.backend.transaction():
            if path != "/":
                missing = []
                for ancestor in ancestors(path):
                    if self._current(ancestor) is not None:
                        break
                    missing.append(ancestor)
                constraint = self._constraint_on(missing[-1]) if missing else None
                if constraint is not None:
                    # §5.3's intermediate containers may not appear inside a constrained container.
                    constraint.check(missing[-1], None, CONTAINER_TYPE)
                for ancestor in reversed(missing):
                    created_parents.append(self.backend.write(ancestor, b"", CONTAINER_TYPE))
            meta = self.backend.write(path, body, content_type)
        return Written(meta, is_new, tuple(created_parents))

    def _announce(self, written: Written) -> None:
        """Send change events, after the lock is released so no subscriber can delay a writer."""
        for parent_meta in written.parents_created:
            self._emit(events.created, parent_meta)
        self._emit(events.created if written.created else events.updated, written.meta)

    def _parse_stored(self, stored: Stored, base: str) -> Graph:
        if not stored.body:
            return Graph(bind_namespaces="none")
        return parse(stored.body, formats.TURTLE, base, _TRUSTED)

    def _emit(self, signal: NamedSignal, meta: Meta) -> None:
        container = None if meta.path == "/" or self.ids.is_storage_root(meta.path) else parent_of(meta.path)
        signal.send(self, path=meta.path, url=self.ids.to_url(meta.path), etag=meta.etag, container=container)


# What we stored ourselves was validated on the way in; re-reading it only needs a size guard.
_TRUSTED = RdfLimits(
    max_bytes=1 << 40, max_triples=1 << 40, max_literal_bytes=1 << 40, max_jsonld_depth=1 << 10
)


def sanitize_slug(slug: str) -> str:
    """A Slug header made safe as one path segment (Solid Protocol §5.3: the server decides the name).

    Percent-escapes are decoded, separators and control characters become ``-``, Unicode is
    normalised (NFC), names reserved for auxiliary resources get a ``-`` appended, and the
    result is percent-encoded for the path. Never escapes the container.
    """
    text = unicodedata.normalize("NFC", unquote(slug, errors="replace")).strip()
    text = _SLUG_STRIP.sub("-", text).strip("-")
    text = text.lstrip(".") if text in {".", ".."} or set(text) == {"."} else text
    text = text[:MAX_SLUG_LENGTH]
    for suffix in AUXILIARY_SUFFIXES.values():
        if text.endswith(suffix):
            text += "-"
    if text.startswith(".well-known"):
        text = "-" + text
    return quote(text, safe="-._~!$&'()*+,;=:@") if text else ""


__all__ = ["ContainerView", "ResourceStore", "Written", "sanitize_slug"]
