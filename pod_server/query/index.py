"""The query index: every pod's RDF in one in-memory pyoxigraph store, one named graph per document.

What is indexed, per storage root:

- every RDF document (stored as Turtle, Solid Protocol §5.1 / decision 0002), auxiliary resources
  included (``.acl``, ``.meta``: they are resources a requester may be allowed to read);
- every container, with its *own stored triples* only. The ``ldp:contains`` listing a GET of the
  container shows is generated from the backend's children (Solid Protocol §5.2) and is not
  indexed: it changes on every write below the container, and a requester who may read the
  container but not a child would otherwise learn the child's name from a query;
- not: non-RDF files, and server-managed resources (``.well-known/``), which are not stored.

Each graph is named by the resource's URL. Blank nodes are renamed per document on load, so two
documents that both write ``_:b0`` do not share a node. A query's default graph is the union of
its graphs as pyoxigraph forms it: a triple stated in two documents matches twice there (SPARQL 1.1
§13.2 asks for an RDF merge, which would keep it once); ``DISTINCT`` or ``GRAPH ?g`` make it exact.

Life of the index (one :class:`QueryIndex` per worker process):

- a storage root is loaded on its first use (:meth:`QueryIndex.ensure_loaded`): a walk of the
  backend, one read per document;
- the store's change events (:mod:`pod_server.store.events`) and change messages from other workers
  (:class:`~pod_server.notifications.change.Change` on the notification bus) only *enqueue* the
  changed path, in the writer's thread or the bus thread; :meth:`QueryIndex.catch_up` re-reads
  each queued path from the store and replaces (or drops) its graph, atomically, before a query;
- the bus may lose a message (a sibling's full socket queue, a Redis reconnect), and a file may be
  changed behind the server's back, so a root is also *reconciled* with storage
  (:meth:`QueryIndex.reconcile`): a walk of its metadata only (listings, no document reads)
  that queues every document or ``.acl`` whose ETag differs from the one indexed, that is new,
  or that is gone. It runs on a root's first use after ``reconcile_interval`` seconds, so a
  missed change lasts at most that long after the next query; that bounds how long the set of
  ``.acl`` paths the access filter groups by can be stale too;
- a document that does not parse is skipped with a log line; it never fails a query (nor is it
  read again until its ETag changes).

Queries run on threads of their own, at most :attr:`QueryIndex.max_running` at a time per process,
because pyoxigraph cannot be interrupted: a query past its timeout is answered with 503 at once and
stops at its next result row; one that computes everything before its first row (an aggregate, an
ORDER BY) keeps its slot until pyoxigraph returns, so runaway queries hold at most that many cores.
The cost cap in :mod:`pod_server.query.guard` keeps such queries from starting.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pyoxigraph as ox

from pod_server.access.acl import is_acl
from pod_server.errors import BadRequest, NotFound, ServiceUnavailable, UnprocessableContent
from pod_server.notifications.change import Change
from pod_server.rdf import formats
from pod_server.store import events
from pod_server.store.backend import Meta
from pod_server.store.resource_store import ResourceStore

log = logging.getLogger(__name__)

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
"""A pyoxigraph RDF term, as bound in a solution."""

_PAGE = 1000
"""Children listed per backend call while walking a storage root."""
_REMEMBERED = 10_000
"""How many of this process's own (path, ETag) changes are remembered to skip their bus echo."""


class QueryTimeout(ServiceUnavailable):
    """The query did not finish within its time limit (503), or no query slot freed up in time."""


@dataclass(frozen=True)
class QueryLimits:
    """What one query may cost: wall-clock seconds, solution rows (SELECT), triples (CONSTRUCT,
    DESCRIBE). Past a limit the query fails with a message; it is never silently truncated."""

    timeout: float = 10.0
    max_rows: int = 10_000
    max_triples: int = 100_000


@dataclass
class QueryOutcome:
    """A query's answer, fully read: ``rows`` for SELECT (variable name -> term, unbound variables
    left out), ``boolean`` for ASK, ``triples`` for CONSTRUCT and DESCRIBE."""

    kind: Literal["solutions", "boolean", "graph"]
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Term]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)


@dataclass
class _Root:
    """One storage root's part of the index. ``docs`` maps each indexed path to the ETag its graph
    was read at, ``failed`` each RDF source that did not parse to the ETag it had; ``acls`` holds
    the paths of the root's ``.acl`` resources. ``checked`` is when (``time.monotonic()``) the
    root was last compared with storage, by its load or by :meth:`QueryIndex.reconcile`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ready: bool = False
    docs: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    acls: set[str] = field(default_factory=set)
    empty: set[str] = field(default_factory=set)
    """Indexed paths whose stored body is empty (most containers): left out of query datasets."""
    pending: set[str] = field(default_factory=set)
    checked: float = 0.0
    checking: bool = False


# SPARQL 1.1 Query §2.4 / grammar [139] IRIREF, [156]-[159] strings, [19] comments: blanked out
# before looking for the SERVICE keyword, so an IRI or a literal that spells it does not count.
_NOT_KEYWORDS = re.compile(
    r"""<[^<>"{}|^`\\\x00-\x20]*>"""
    r"""|'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\""""
    r"""|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*"|#[^\n\r]*""",
    re.DOTALL,
)
# Not after a name character, ':', '-' or a variable sigil (ex:service, ?service); after '.' it
# counts, since ``?o .SERVICE`` is valid (a local name like ex:a.service is refused with it).
_SERVICE = re.compile(r"(?<![\w:\-?$])SERVICE(?![\w:\-])", re.IGNORECASE)
# SPARQL 1.1 Query §19.2: codepoint escapes may stand anywhere in a query string.
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape(match: re.Match[str]) -> str:
    code = int(match.group(1) or match.group(2), 16)
    return chr(code) if code <= 0x10FFFF else match.group(0)


def calls_out(sparql: str) -> bool:
    """Whether the query uses ``SERVICE`` (SPARQL 1.1 Federated Query), which pyoxigraph would
    answer by fetching the named URL. The guard refuses it with a clear message first; the index
    refuses it again, because a fetch from inside the server must never depend on one check."""
    text = _ESCAPE.sub(_unescape, sparql)
    return _SERVICE.search(_NOT_KEYWORDS.sub(" ", text)) is not None


class QueryIndex:
    """One per process. Each indexed RDF document is one named graph, named by its URL.
    Storage roots are loaded lazily, on their first query. Kept current from change events.

    Thread-safety: change events may arrive on any thread; :meth:`catch_up`, loading and
    :meth:`rebuild` serialise their writes to pyoxigraph; queries run concurrently with each other
    and with those writes (pyoxigraph answers each query from one snapshot).
    """

    max_running: int = 4
    """Query evaluations that may run at once in this process (see the module docstring)."""

    def __init__(self, store: ResourceStore, *, reconcile_interval: float = 30.0) -> None:
        self.store = store
        self.ids = store.ids
        self.reconcile_interval = reconcile_interval
        """Seconds after which a root's next use first reconciles it (:meth:`reconcile`)."""
        self._db = ox.Store()
        self._roots: dict[str, _Root] = {}
        self._state = threading.Lock()  # guards _roots, each _Root's sets and dicts, _mine
        self._apply = threading.Lock()  # one writer of changes at a time (catch_up, rebuild)
        self._mine: dict[tuple[str, str], None] = {}
        self._slots = threading.BoundedSemaphore(self.max_running)
        self._attached = False

    # -- keeping current ---------------------------------------------------------------------
    def attach(self) -> None:
        """Listen to the store's change events. In the writer's thread this only queues the path."""
        if self._attached:
            return
        self._attached = True
        for signal, kind in (
            (events.created, "created"),
            (events.updated, "updated"),
            (events.deleted, "deleted"),
        ):
            signal.connect(functools.partial(self._on_event, kind), sender=self.store, weak=False)

    def on_message(self, message: object) -> None:
        """A message from the notification bus. Changes made by other workers are queued like
        local ones; the bus's echo of this process's own changes (recognised by path and ETag,
        which the backend makes unique per write) is skipped. Other messages are ignored."""
        if not isinstance(message, Change):
            return
        with self._state:
            if (message.path, message.etag) in self._mine:
                return
        self._enqueue(message.path, deleted=message.kind == "deleted")

    def catch_up(self) -> None:
        """Apply every queued change now: re-read each path from the store, replace its graph, or
        drop it when the resource is gone. Returns when changes queued before the call are applied
        (a root still loading applies its own queue when its load ends)."""
        with self._apply:
            with self._state:
                work = [(path, r) for path, r in self._roots.items() if r.ready and r.pending]
                batches = [(root, r, r.pending) for root, r in work]
                for _, r in work:
                    r.pending = set()
            for _root, r, paths in batches:
                for path in sorted(paths):
                    self._apply_path(r, path)

    def _on_event(self, kind: str, sender: Any, **kw: Any) -> None:
        path, etag = kw.get("path"), kw.get("etag")
        if not isinstance(path, str):
            return
        try:
            if isinstance(etag, str):
                with self._state:
                    self._mine[(path, etag)] = None
                    if len(self._mine) > _REMEMBERED:
                        del self._mine[next(iter(self._mine))]
            self._enqueue(path, deleted=kind == "deleted")
        except Exception:  # a subscriber must never fail a write (store/events.py)
            log.exception("the query index could not queue a change to %s", path)

    def _enqueue(self, path: str, *, deleted: bool) -> None:
        """Queue ``path`` if its root is loaded or loading; an unloaded root reads it when it loads.
        ACL paths are tracked at once, so access decisions never wait for :meth:`catch_up`."""
        root = self.ids.storage_root(path)
        if root is None or self.ids.is_server_managed(path):
            return
        with self._state:
            r = self._roots.get(root)
            if r is None:
                return
            r.pending.add(path)
            if is_acl(path):
                if deleted:
                    r.acls.discard(path)
                else:
                    r.acls.add(path)

    # -- reconciling with storage -------------------------------------------------------------
    def reconcile(self, root: str) -> int:
        """Queue every path of ``root`` whose indexed state differs from storage: an RDF source or
        ``.acl`` that is new, whose ETag is not the one indexed, or that is gone. Reads metadata
        only (the backend's listings), never a document; :meth:`catch_up` applies what is queued.
        An ``.acl`` found new counts at once in :meth:`acl_paths` (as an event's would); one found
        gone leaves it when :meth:`catch_up` confirms. Loads ``root`` if it is not loaded (nothing
        to reconcile then). Returns how many paths were queued."""
        with self._state:
            r = self._roots.get(root)
            busy = r is not None and r.ready and r.checking
            if r is not None and r.ready and not r.checking:
                r.checking = True
                r.checked = time.monotonic()
        if r is None or not r.ready:
            self.ensure_loaded(root)
            return 0
        if busy:
            return 0  # another thread is walking this root now
        try:
            return self._reconcile(root, r)
        finally:
            with self._state:
                r.checking = False

    def mark_stale(self, root: str | None = None) -> None:
        """Make the next use of ``root`` (of every loaded root) reconcile it first, whatever the
        interval: for a bus that knows it lost messages (a listener that resubscribed)."""
        with self._state:
            for name, r in self._roots.items():
                if root is None or name == root:
                    r.checked = float("-inf")

    def _reconcile(self, root: str, r: _Root) -> int:
        started = time.perf_counter()
        seen: dict[str, str] = {}  # indexable path -> its ETag now
        acls: set[str] = set()
        try:
            for meta in self._walk(root):
                if is_acl(meta.path):
                    acls.add(meta.path)
                if _indexable(meta):
                    seen[meta.path] = meta.etag
        except NotFound:
            pass  # the root itself is gone: everything indexed in it is
        with self._state:
            known = {**r.failed, **r.docs}
            stale = {path for path, etag in seen.items() if known.get(path) != etag}
            stale |= known.keys() - seen.keys()
            stale |= acls ^ r.acls
            stale -= r.pending  # already queued by an event or a bus message
            r.acls |= acls  # a new ACL counts at once: it can only narrow what readable() allows
            r.pending |= stale
        # A container's ETag changes with its children, and its child's event does not queue it:
        # a changed container is routine. A document or an ACL is a change the index had missed.
        missed = sum(1 for path in stale if not path.endswith("/"))
        log.log(
            logging.INFO if missed else logging.DEBUG,
            "reconciled %s in %.0f ms: %d missed change(s) queued, %d container(s) to refresh",
            root,
            (time.perf_counter() - started) * 1000,
            missed,
            len(stale) - missed,
        )
        return len(stale)

    def _reconcile_if_due(self, root: str) -> None:
        with self._state:
            r = self._roots.get(root)
            due = (
                r is not None
                and r.ready
                and not r.checking
                and time.monotonic() - r.checked >= self.reconcile_interval
            )
        if due:
            self.reconcile(root)

    # -- loading -----------------------------------------------------------------------------
    def ensure_loaded(self, root: str) -> None:
        """Load all RDF documents of the storage root ``root`` (a path like ``"/alice/"``), once;
        on a later call, first :meth:`reconcile` it if that was last done ``reconcile_interval``
        seconds ago or more. Callers for a root being loaded wait for it. ``NotFound`` when
        there is no such root."""
        self._reconcile_if_due(root)
        with self._state:
            r = self._roots.get(root)
            if r is None:
                r = self._roots[root] = _Root()
                r.lock.acquire()
                mine = True
            else:
                mine = False
        if not mine:
            if not r.ready:
                with r.lock:  # wait for the loading thread
                    pass
                if not r.ready:  # its load failed: try again here
                    self.ensure_loaded(root)
            return
        try:
            self._load(root, r)
            with self._apply:
                with self._state:
                    pending, r.pending = r.pending, set()
                for path in sorted(pending):
                    self._apply_path(r, path)
                r.ready = True
        except BaseException:
            with self._state:
                self._roots.pop(root, None)
            self._drop_graphs(r.docs)
            raise
        finally:
            r.lock.release()

    def _load(self, root: str, r: _Root) -> None:
        started = time.perf_counter()
        r.checked = time.monotonic()
        for meta in self._walk(root):
            if is_acl(meta.path):
                with self._state:
                    r.acls.add(meta.path)
            if not _indexable(meta):
                continue
            try:
                stored = self.store.backend.read(meta.path)
            except NotFound:
                continue  # deleted during the walk; its event is queued
            parsed = self._put_graph(meta.path, stored.body, replace=False)
            with self._state:
                (r.docs if parsed else r.failed)[meta.path] = stored.meta.etag
                if parsed and not stored.body.strip():
                    r.empty.add(meta.path)
        log.info("indexed %s: %d documents in %.2f s", root, len(r.docs), time.perf_counter() - started)

    def _walk(self, root: str) -> Iterator[Meta]:
        """Every resource at or below ``root``, the root first (auxiliary resources included)."""
        yield self.store.backend.stat(root)
        stack = [root]
        while stack:
            container = stack.pop()
            after: str | None = None
            while True:
                try:
                    batch = self.store.backend.children(container, after=after, limit=_PAGE)
                except NotFound:
                    break  # deleted during the walk
                for meta in batch:
                    if self.ids.is_server_managed(meta.path):
                        continue
                    yield meta
                    if meta.is_container:
                        stack.append(meta.path)
                if len(batch) < _PAGE:
                    break
                after = batch[-1].path

    # -- applying changes --------------------------------------------------------------------
    def _apply_path(self, r: _Root, path: str) -> None:
        """Make ``path``'s graph match the store (called holding ``_apply``)."""
        try:
            stored = self.store.backend.read(path)
        except NotFound:
            stored = None
        if stored is not None and is_acl(path):
            with self._state:
                r.acls.add(path)
        if stored is None or not _indexable(stored.meta):
            with self._state:
                if stored is None and is_acl(path):
                    r.acls.discard(path)
                r.failed.pop(path, None)
            if path in r.docs:
                self._drop_graphs([path])
                with self._state:
                    r.docs.pop(path, None)
                    r.empty.discard(path)
            return
        etag = stored.meta.etag
        if etag in (r.docs.get(path), r.failed.get(path)):
            return  # already indexed, or found not to parse, at this version
        if self._put_graph(path, stored.body, replace=path in r.docs):
            with self._state:
                r.docs[path] = etag
                r.failed.pop(path, None)
                if stored.body.strip():
                    r.empty.discard(path)
                else:
                    r.empty.add(path)
            return
        if path in r.docs:  # no longer parses: keep no stale triples
            self._drop_graphs([path])
        with self._state:
            r.docs.pop(path, None)
            r.empty.discard(path)
            r.failed[path] = etag

    def _put_graph(self, path: str, body: bytes, *, replace: bool) -> bool:
        """Load ``body`` (Turtle) as the graph of ``path``; ``False`` (logged) when it does not parse.
        A replacement is one pyoxigraph transaction, so a concurrent query sees the old graph or
        the new one, never neither."""
        url = self.ids.to_url(path)
        graph = ox.NamedNode(url)
        try:
            if not replace:
                if body:
                    self._db.load(body, format=ox.RdfFormat.TURTLE, base_iri=url, to_graph=graph)
                return True
            quads = ox.parse(body, format=ox.RdfFormat.TURTLE, base_iri=url, rename_blank_nodes=True)
            data = ox.serialize(list(quads), format=ox.RdfFormat.N_TRIPLES) or b""
        except (SyntaxError, ValueError, OSError) as exc:
            log.warning("the query index skipped %s: it does not parse as Turtle (%s)", path, exc)
            return False
        try:
            self._db.update(
                f"DROP SILENT GRAPH <{url}> ;\nINSERT DATA {{ GRAPH <{url}> {{\n{data.decode()}\n}} }}"
            )
        except SyntaxError:
            # Something N-Triples can hold but SPARQL Update cannot spell: replace in two steps.
            self._db.remove_graph(graph)
            self._db.load(body, format=ox.RdfFormat.TURTLE, base_iri=url, to_graph=graph)
        return True

    def _drop_graphs(self, paths: Collection[str]) -> None:
        for path in list(paths):
            self._db.remove_graph(ox.NamedNode(self.ids.to_url(path)))

    # -- what is indexed ---------------------------------------------------------------------
    def documents(self, root: str) -> frozenset[str]:
        """Paths of the RDF sources indexed in ``root``: documents, auxiliary resources and
        containers (their own triples, not their ``ldp:contains`` listing). Loads the root first
        (:meth:`ensure_loaded`)."""
        self.ensure_loaded(root)
        with self._state:
            return frozenset(self._roots[root].docs)

    def sources(self, root: str) -> tuple[frozenset[str], frozenset[str]]:
        """A query's view of ``root``, current: loads it (:meth:`ensure_loaded`, which reconciles
        when due), applies queued changes (:meth:`catch_up`), then returns its sources that have
        triples and its ``.acl`` paths (:meth:`acl_paths`), read together. Sources with an empty
        body (most containers) are left out: they add nothing to a query's dataset but cost time
        in every access decision and every pattern."""
        self.ensure_loaded(root)
        self.catch_up()
        with self._state:
            r = self._roots[root]
            return frozenset(p for p in r.docs if p not in r.empty), frozenset(r.acls)

    def acl_paths(self, root: str) -> frozenset[str]:
        """Paths of the existing ``.acl`` resources in ``root`` (for grouping access decisions by
        effective ACL, :meth:`pod_server.access.wac.WacPolicy.readable`). Loads the root first
        (:meth:`ensure_loaded`)."""
        self.ensure_loaded(root)
        with self._state:
            return frozenset(self._roots[root].acls)

    def rebuild(self, root: str | None = None) -> dict[str, int]:
        """Drop ``root`` (or every storage root) and load it again from the store.
        Returns ``{"documents": n, "triples": m, "skipped": k}`` for what was loaded, ``k`` being
        the RDF documents left out because they do not parse (each logged). Queries of a root
        being rebuilt may see it partly loaded until this returns."""
        if root is not None:
            self._drop_root(root)
            roots = [root]
        else:
            roots = self._storage_roots()
            with self._state:
                loaded = list(self._roots)
            for name in sorted(set(loaded) | set(roots)):
                self._drop_root(name)
        documents = skipped = 0
        urls: list[ox.NamedNode | ox.BlankNode] = []
        for name in roots:
            paths = self.documents(name)
            documents += len(paths)
            urls.extend(ox.NamedNode(self.ids.to_url(p)) for p in paths)
            with self._state:
                r = self._roots.get(name)
                skipped += len(r.failed) if r is not None else 0
        return {"documents": documents, "triples": self._count(urls), "skipped": skipped}

    def _drop_root(self, name: str) -> None:
        with self._state:
            r = self._roots.get(name)
        if r is None:
            return
        with r.lock:  # a load in progress ends first (it takes _apply while holding this lock)
            pass
        with self._apply:
            with self._state:
                if self._roots.get(name) is not r:
                    return  # its load failed, or someone else dropped it
            self._drop_graphs(list(r.docs))
            with self._state:
                del self._roots[name]

    def _storage_roots(self) -> list[str]:
        if self.ids.single_pod:
            return ["/"]
        return [m.path for m in self._walk_top() if self.ids.is_storage_root(m.path)]

    def _walk_top(self) -> Iterator[Meta]:
        after: str | None = None
        while True:
            batch = self.store.backend.children("/", after=after, limit=_PAGE)
            yield from (m for m in batch if m.is_container)
            if len(batch) < _PAGE:
                return
            after = batch[-1].path

    def _count(self, graphs: list[ox.NamedNode | ox.BlankNode]) -> int:
        if not graphs:
            return 0
        result = self._db.query("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }", named_graphs=graphs)
        assert isinstance(result, ox.QuerySolutions)
        for solution in result:
            count = solution[0]
            return int(count.value) if isinstance(count, ox.Literal) else 0
        return 0

    # -- querying ----------------------------------------------------------------------------
    def query(self, sparql: str, *, graphs: Collection[str], limits: QueryLimits) -> QueryOutcome:
        """Run ``sparql`` over exactly ``graphs`` (URLs): they are the named graphs, and the default
        graph is their union (SPARQL 1.1 Query §13.2: the dataset is fixed here, whatever the
        query's FROM says). Raises ``BadRequest`` for a syntax error, ``UnprocessableContent``
        for too many results or a SERVICE call, ``QueryTimeout`` past ``limits.timeout``."""
        if calls_out(sparql):
            raise UnprocessableContent("SERVICE is not supported: a query reads this pod's data only")
        dataset: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(url) for url in graphs]
        deadline = time.monotonic() + limits.timeout
        if not self._slots.acquire(timeout=limits.timeout):
            raise QueryTimeout(
                "the server is busy with other queries; try again shortly", headers={"Retry-After": "5"}
            )
        run = _Run(self._db, sparql, dataset, limits)
        try:
            threading.Thread(
                target=run.evaluate, args=(self._slots,), name="pod-server-query", daemon=True
            ).start()
        except BaseException:
            self._slots.release()
            raise
        if not run.done.wait(max(0.0, deadline - time.monotonic())):
            run.cancelled.set()
            raise QueryTimeout(
                f"the query did not finish within {limits.timeout:g} s; make it more selective "
                "(more specific patterns, a LIMIT) and try again"
            )
        if run.error is not None:
            raise run.error
        assert run.outcome is not None
        return run.outcome


class _Run:
    """One query evaluation on its own thread; the caller waits for ``done`` at most the timeout."""

    def __init__(
        self, db: ox.Store, sparql: str, dataset: list[ox.NamedNode | ox.BlankNode], limits: QueryLimits
    ) -> None:
        self.db = db
        self.sparql = sparql
        self.dataset = dataset
        self.limits = limits
        self.done = threading.Event()
        self.cancelled = threading.Event()
        self.outcome: QueryOutcome | None = None
        self.error: Exception | None = None

    def evaluate(self, slots: threading.BoundedSemaphore) -> None:
        # pyoxigraph's result iterators must be dropped on the thread that made them: nothing
        # that reaches the caller (outcome, error) may hold one, not even through a traceback.
        try:
            self.outcome = self._evaluate()
        except SyntaxError as exc:
            self.error = BadRequest(f"the query is not valid SPARQL 1.1: {exc}")
        except OSError as exc:
            self.error = UnprocessableContent(f"the query could not be evaluated: {exc}")
        except Exception as exc:  # anything unforeseen: the caller re-raises it, without our frames
            self.error = exc.with_traceback(None)
        finally:
            slots.release()
            self.done.set()

    def _evaluate(self) -> QueryOutcome:
        default: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = list(self.dataset)
        result = self.db.query(self.sparql, default_graph=default, named_graphs=self.dataset)
        if isinstance(result, ox.QueryBoolean):
            return QueryOutcome("boolean", boolean=bool(result))
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            rows = self._rows(result, len(names))
            del result
            if rows is None:
                raise UnprocessableContent(
                    f"the query has more than {self.limits.max_rows} results; "
                    "add LIMIT (and OFFSET, to page through them)"
                )
            return QueryOutcome(
                "solutions",
                variables=names,
                rows=[{n: t for n, t in zip(names, row, strict=True) if t is not None} for row in rows],
            )
        triples = self._triples(result)
        del result
        if triples is None:
            raise UnprocessableContent(
                f"the query builds more than {self.limits.max_triples} triples; add LIMIT to its pattern"
            )
        return QueryOutcome("graph", triples=triples)

    def _rows(self, result: ox.QuerySolutions, width: int) -> list[tuple[Term | None, ...]] | None:
        """The solutions as tuples; ``None`` when there are more than ``max_rows``."""
        rows: list[tuple[Term | None, ...]] = []
        for solution in result:
            if self.cancelled.is_set():
                break
            if len(rows) == self.limits.max_rows:
                return None
            rows.append(tuple(solution[i] for i in range(width)))
        return rows

    def _triples(self, result: ox.QueryTriples) -> list[ox.Triple] | None:
        """The triples built; ``None`` when there are more than ``max_triples``."""
        triples: list[ox.Triple] = []
        for triple in result:
            if self.cancelled.is_set():
                break
            if len(triples) == self.limits.max_triples:
                return None
            triples.append(triple)
        return triples


def _indexable(meta: Meta) -> bool:
    """RDF sources: containers (their own triples) and documents stored as Turtle."""
    return meta.is_container or formats.essence(meta.content_type) == formats.TURTLE


__all__ = ["QueryIndex", "QueryLimits", "QueryOutcome", "QueryTimeout", "Term", "calls_out"]
