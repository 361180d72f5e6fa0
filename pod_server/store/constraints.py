"""Shape-constrained containers: the hook the ResourceStore calls before it writes a child.

A container declares a shape in its description resource (LDP §4.2.1.6 names the relation)::

    <{container}> ldp:constrainedBy <https://w3id.org/pod-server/shapes/contribution> .

Every create, replace or patch of a document directly inside it must then be RDF that conforms
to the shapes and has at least one node they target; containers and non-RDF documents are
refused. Auxiliary resources (``.acl``, ``.meta``) are never checked. docs/shapes.md has the
details and the measured cost.

Where a shape comes from (:class:`ShapeResolver`): a bundled IRI or ``{base}.ns/shapes/{name}``
from the :class:`~pod_server.shapes.ShapeLibrary`; a URL of a resource in the same storage as
the container from the backend (Turtle as stored); any other URL through the safe fetcher
(``pod_server.fetch``), so WAC and the usual outbound checks apply. A shape that cannot be read
or parsed is a 422 naming it, never a 500.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from urllib.parse import urldefrag, urlsplit

from rdflib import Graph, URIRef

from pod_server.errors import BadRequest, NotFound, PodError, ShapeViolation
from pod_server.fetch import SafeFetcher
from pod_server.ldp.identifiers import AUXILIARY_SUFFIXES, IdentifierMap
from pod_server.rdf import formats
from pod_server.rdf.convert import parse
from pod_server.rdf.limits import RdfLimits
from pod_server.shapes import PreparedShapes, ShapeLibrary, shape_failure, summary
from pod_server.store.backend import Backend
from pod_server.vocab import LDP

_DESCRIPTION = AUXILIARY_SUFFIXES["describedby"]
_STORED = RdfLimits(
    max_bytes=1 << 40, max_triples=1 << 40, max_literal_bytes=1 << 40, max_jsonld_depth=1 << 10
)
"""What we stored ourselves was validated on the way in."""
_RDF_TYPES = (
    "text/turtle, application/ld+json, application/n-triples, application/n-quads, application/rdf+xml"
)


class Constraint(Protocol):
    """The constraint on one container."""

    @property
    def shapes(self) -> tuple[str, ...]:
        """The IRIs or URLs the container names with ``ldp:constrainedBy`` (at least one)."""
        ...

    def check(self, child: str, graph: Graph | None, content_type: str) -> None:
        """Refuse (raise) unless ``child``, about to be written with ``graph``, may be stored.

        ``child`` is a path directly inside the container, never an auxiliary resource; it ends in
        ``/`` for a container. ``graph`` is the parsed body with the child's URL as base, or
        ``None`` when the body is not RDF. Called before anything is written; writes nothing.
        Raises :class:`~pod_server.errors.ShapeViolation` (422) when the child does not conform,
        :class:`~pod_server.errors.UnprocessableContent` (422) when a shape cannot be used.
        """
        ...


class Constraints(Protocol):
    """Which containers are constrained. The store asks before every write of a child."""

    def applying_to(self, container: str) -> Constraint | None:
        """The constraint on ``container`` (a path ending in ``/``), or ``None``. Must be cheap for
        unconstrained containers: the store calls it on every write."""
        ...


class NoConstraints:
    """The null implementation: nothing is constrained (the store's default)."""

    def applying_to(self, container: str) -> Constraint | None:
        return None


@dataclass(frozen=True)
class ShapeConstraint:
    """``container`` is constrained by ``shapes``; ``resolve`` turns one into prepared shapes."""

    container: str
    url: str
    shapes: tuple[str, ...]
    resolve: Callable[[str, str], PreparedShapes]

    def check(self, child: str, graph: Graph | None, content_type: str) -> None:
        first = self.shapes[0]
        if child.endswith("/"):
            raise ShapeViolation(
                f"{self.url} is constrained by {first} (ldp:constrainedBy): it holds RDF documents that "
                "conform to the shape, not containers. Create the container somewhere else",
                shape=first,
            )
        if graph is None:
            raise ShapeViolation(
                f"{self.url} is constrained by {first} (ldp:constrainedBy): it holds RDF documents that "
                f"conform to the shape, and {formats.essence(content_type) or 'this body'} is not RDF. "
                f"Send {_RDF_TYPES}",
                shape=first,
            )
        for shape in self.shapes:
            prepared = self.resolve(shape, self.container)
            validation = prepared.validate(graph)
            if validation.focus_count == 0:
                # SHACL: a graph nothing is targeted in conforms; the container wants its kind of thing.
                raise ShapeViolation(
                    f"nothing in the body is {prepared.targets.describe()}, so {self.url} (constrained by "
                    f"{shape}) cannot take it",
                    shape=shape,
                )
            if not validation.conforms:
                raise ShapeViolation(
                    f"the body does not conform to {shape}: {summary(validation.report)}",
                    shape=shape,
                    report=validation.report,
                )


K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """A small thread-safe LRU map."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class ShapeResolver:
    """Shape IRI or URL -> :class:`PreparedShapes`, cached (see the module docstring)."""

    def __init__(
        self,
        library: ShapeLibrary,
        backend: Backend,
        ids: IdentifierMap,
        limits: RdfLimits,
        fetcher: SafeFetcher | None = None,
        *,
        cache_entries: int = 256,
    ) -> None:
        self.library = library
        self.backend = backend
        self.ids = ids
        self.limits = limits
        self.fetcher = fetcher
        self._cache: _Lru[tuple[str, str], PreparedShapes] = _Lru(cache_entries)

    def __call__(self, shape: str, container: str) -> PreparedShapes:
        """The shapes ``shape`` names, for validating children of ``container`` (a path)."""
        name = self.library.name_of(shape)
        if name is not None:
            try:
                return self.library.prepared(name)
            except PodError as e:
                raise shape_failure(shape, e.detail) from None
        url = urldefrag(shape).url
        local = self._local_path(url)
        if local is not None and self.ids.storage_root(local) == self.ids.storage_root(container):
            return self._from_store(shape, local)
        return self._fetched(shape, url)

    def _local_path(self, url: str) -> str | None:
        """The storage path of ``url`` when it names a resource on this server."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or parts.query:
            return None
        try:
            path = self.ids.to_path(parts.netloc, parts.path or "/")
        except PodError:
            return None
        return path if self.ids.to_url(path) == url else None

    def _from_store(self, shape: str, path: str) -> PreparedShapes:
        try:
            meta = self.backend.stat(path)
        except NotFound:
            raise shape_failure(shape, "it does not exist on this server") from None
        if self.ids.is_server_managed(path) or meta.is_container or not formats.is_rdf(meta.content_type):
            raise shape_failure(shape, f"it is {meta.content_type or 'a container'}, not an RDF document")
        key = (path, meta.etag)
        found = self._cache.get(key)
        if found is None:
            stored = self.backend.read(path)
            graph = parse(stored.body, formats.TURTLE, self.ids.to_url(path), _STORED)
            found = self._prepare(shape, graph)
            self._cache.put(key, found)
        return found

    def _fetched(self, shape: str, url: str) -> PreparedShapes:
        if self.fetcher is None:
            raise shape_failure(shape, "this server does not fetch shapes from other servers")
        try:
            fetched = self.fetcher.get(url, accept="text/turtle, application/ld+json;q=0.9")
        except BadRequest as e:  # FetchError: the message names the host and the check
            raise shape_failure(shape, e.detail) from None
        if fetched.status != 200:
            raise shape_failure(shape, f"GET {url} answered {fetched.status}")
        if not formats.is_rdf(fetched.content_type):
            raise shape_failure(shape, f"GET {url} answered {fetched.content_type or 'no type'}, not RDF")
        key = (url, hashlib.sha256(fetched.body).hexdigest())
        found = self._cache.get(key)
        if found is None:
            try:
                graph = parse(fetched.body, fetched.content_type, fetched.url, self.limits)
            except PodError as e:
                raise shape_failure(shape, f"it does not parse: {e.detail}") from None
            found = self._prepare(shape, graph)
            self._cache.put(key, found)
        return found

    def _prepare(self, shape: str, graph: Graph) -> PreparedShapes:
        try:
            return PreparedShapes(shape, self.library.with_references(graph))
        except PodError as e:
            raise shape_failure(shape, e.detail) from None
        except Exception as e:  # pyshacl's ShapeLoadError and friends: a broken shapes graph
            raise shape_failure(shape, f"pyshacl cannot load it: {' '.join(str(e).split())[:300]}") from None


class ShapeConstraints:
    """Constraints read from ``ldp:constrainedBy`` in each container's description resource.

    Cost for an unconstrained container: one ``stat`` of ``{container}.meta``. A description is
    read and parsed once per ETag (so a changed description applies at once, in every worker).
    """

    def __init__(
        self, backend: Backend, ids: IdentifierMap, resolver: ShapeResolver, *, cache_entries: int = 4096
    ) -> None:
        self.backend = backend
        self.ids = ids
        self.resolver = resolver
        self._descriptions: _Lru[str, tuple[str, tuple[str, ...]]] = _Lru(cache_entries)

    def applying_to(self, container: str) -> Constraint | None:
        description = container + _DESCRIPTION
        try:
            meta = self.backend.stat(description)
        except NotFound:
            return None
        cached = self._descriptions.get(description)
        if cached is not None and cached[0] == meta.etag:
            shapes = cached[1]
        else:
            shapes = self._read(container, description)
            self._descriptions.put(description, (meta.etag, shapes))
        if not shapes:
            return None
        return ShapeConstraint(container, self.ids.to_url(container), shapes, self.resolver)

    def _read(self, container: str, description: str) -> tuple[str, ...]:
        try:
            stored = self.backend.read(description)
        except NotFound:  # deleted since the stat
            return ()
        if not stored.body:
            return ()
        graph = parse(stored.body, formats.TURTLE, self.ids.to_url(description), _STORED)
        subject = URIRef(self.ids.to_url(container))
        return tuple(
            sorted(str(o) for o in graph.objects(subject, LDP.constrainedBy) if isinstance(o, URIRef))
        )


__all__ = [
    "Constraint",
    "Constraints",
    "NoConstraints",
    "ShapeConstraint",
    "ShapeConstraints",
    "ShapeResolver",
]
