"""The bundled SHACL shapes (``shapes/{name}.ttl``) and validation against them with pyshacl.

A shape document's IRI is ``https://w3id.org/pod-server/shapes/{name}`` and every pod-server
serves it at ``{base}.ns/shapes/{name}`` (docs/shapes.md). A shape may point at shapes of another
bundled document (``sh:node measure:MeasureShape``); :meth:`ShapeLibrary.shapes_graph` merges the
referenced documents, transitively, so pyshacl sees every shape it needs.

Invariants:

- each document is read and parsed once per process; merged graphs and prepared validators are
  cached for the life of the library. Cached graphs are shared: callers must not modify them;
- :class:`PreparedShapes` parses its shapes graph into pyshacl's shapes once, then validates any
  number of data graphs with it (``inference="none"``, ``advanced=True``; the data graph is
  copied by pyshacl, never modified). It is safe to share between threads;
- ``focus_count`` counts the nodes of the data graph the shapes *of the document asked for*
  target (``sh:targetClass`` through an explicit ``rdf:type``, implicit class targets,
  ``sh:targetNode`` when the node occurs in the data, ``sh:targetSubjectsOf``,
  ``sh:targetObjectsOf``); shapes merged in from referenced documents only serve references.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from pod_server.errors import NotFound, UnprocessableContent
from pod_server.rdf import formats
from pod_server.rdf.convert import parse
from pod_server.rdf.limits import RdfLimits
from pod_server.vocab import RDF, RDFS, SH

BUNDLE = "https://w3id.org/pod-server/shapes/"
"""The namespace of the bundled shape documents: ``{BUNDLE}{name}`` is a document's IRI."""
DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "shapes"
"""The repository's ``shapes/`` folder (an editable install finds it; a wheel needs it as data)."""
NS_SHAPES = ".ns/shapes/"
"""Where, under the server's base URL, the bundled documents are served."""

_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_REFERENCES = (SH.node, SH.property, SH.qualifiedValueShape, SH["not"])
"""Shape-expecting parameters whose value is one shape (SHACL §4.6, §4.7, §4.8.1)."""
_LIST_REFERENCES = (SH["and"], SH["or"], SH.xone)
"""Shape-expecting parameters whose value is a list of shapes (SHACL §4.6)."""
_BUNDLED_LIMITS = RdfLimits(max_bytes=16 << 20, max_triples=1_000_000)
"""Our own files: generous limits, only a guard against a broken checkout."""
_MAX_SUMMARY_RESULTS = 3
_MAX_CACHED_QUERIES = 256


@dataclass(frozen=True)
class Validation:
    """The outcome of validating a data graph against a shapes graph."""

    conforms: bool
    report: Graph
    """The SHACL validation report (SHACL §3.6)."""
    text: str
    """pyshacl's human-readable text of the report."""
    focus_count: int
    """How many nodes of the data graph the shapes targeted (see the module docstring)."""


@dataclass(frozen=True)
class Targets:
    """What the shapes of one document target (SHACL §2.1.3)."""

    classes: frozenset[URIRef]
    nodes: frozenset[Node]
    subjects_of: frozenset[URIRef]
    objects_of: frozenset[URIRef]

    @classmethod
    def of(cls, shapes: Graph) -> Targets:
        classes = {c for c in shapes.objects(None, SH.targetClass) if isinstance(c, URIRef)}
        # SHACL §2.1.3.3 implicit class targets: a shape that is also an rdfs:Class.
        classes |= {
            s
            for s in shapes.subjects(RDF.type, RDFS.Class)
            if isinstance(s, URIRef) and (s, RDF.type, SH.NodeShape) in shapes
        }
        return cls(
            frozenset(classes),
            frozenset(shapes.objects(None, SH.targetNode)),
            frozenset(p for p in shapes.objects(None, SH.targetSubjectsOf) if isinstance(p, URIRef)),
            frozenset(p for p in shapes.objects(None, SH.targetObjectsOf) if isinstance(p, URIRef)),
        )

    def focus(self, data: Graph) -> set[Node]:
        """The nodes of ``data`` these targets select."""
        found: set[Node] = set()
        for c in self.classes:
            found.update(data.subjects(RDF.type, c))
        found.update(n for n in self.nodes if (n, None, None) in data)
        for p in self.subjects_of:
            found.update(data.subjects(p, None))
        for p in self.objects_of:
            found.update(data.objects(None, p))
        return found

    def describe(self) -> str:
        """What a body needs for these targets to select something, for error messages."""
        parts = [f"a <{c}>" for c in sorted(self.classes)]
        parts += [f"<{n}>" for n in sorted(str(n) for n in self.nodes)]
        parts += [f"the subject of <{p}>" for p in sorted(self.subjects_of)]
        parts += [f"the object of <{p}>" for p in sorted(self.objects_of)]
        return " or ".join(parts) if parts else "targeted by the shapes (they declare no targets)"


class PreparedShapes:
    """One shapes graph, turned into pyshacl's shapes once, ready to validate data graphs.

    ``iri`` names the shapes (a bundled document IRI or the URL they were read from);
    ``targets`` are those of the document asked for (see the module docstring).
    """

    def __init__(self, iri: str, graph: Graph, targets: Targets | None = None) -> None:
        from pyshacl import ShapesGraph  # imported on first use: pyshacl takes ~0.2 s to import

        self.iri = iri
        self.graph = graph
        self.targets = targets if targets is not None else Targets.of(graph)
        self._shapes = ShapesGraph(graph)
        _ = self._shapes.shapes  # harvest the shapes now, once
        # pyshacl's Validator writes a few system triples into the shapes graph it is given, and
        # advanced mode registers target types on the shapes: one validation at a time per graph.
        # Validation is CPU-bound Python, so under the GIL the lock costs no throughput.
        self._lock = threading.Lock()
        self._queries: dict[str, Query] = {}

    def validate(self, data: Graph) -> Validation:
        from pyshacl import Validator
        from pyshacl.graph_abstraction import DataGraph

        # inplace: pyshacl validates (and, in advanced mode, may add rule triples to) our copy.
        options: dict[str, Any] = {"inference": "none", "advanced": True, "inplace": True}
        with self._lock:
            target = _QueryCachingGraph(self._queries)
            target += data
            validator = Validator(DataGraph.from_rdflib(target), shacl_graph=self.graph, options=options)
            validator.shacl_graph = self._shapes  # reuse the harvested shapes
            conforms, report, text = validator.run()  # type: ignore[no-untyped-call]
        return Validation(bool(conforms), report, str(text), len(self.targets.focus(data)))


class _QueryCachingGraph(Graph):
    """The copy of a data graph pyshacl validates. SHACL-SPARQL constraints (SHACL §5) send the
    same query text for every focus node and every validation; rdflib would parse it each time
    (most of a validation's cost), so the text is parsed once per :class:`PreparedShapes`."""

    def __init__(self, queries: dict[str, Query]) -> None:
        super().__init__(bind_namespaces="none")
        self._queries = queries

    def query(
        self,
        query_object: str | Query,
        processor: Any = "sparql",
        result: Any = "sparql",
        initNs: Any = None,
        initBindings: Any = None,
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Any:
        if isinstance(query_object, str) and not initNs and not kwargs:
            prepared = self._queries.get(query_object)
            if prepared is None:
                prepared = prepareQuery(query_object)
                if len(self._queries) < _MAX_CACHED_QUERIES:
                    self._queries[query_object] = prepared
            query_object = prepared
        return super().query(
            query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs
        )


def summary(report: Graph, limit: int = _MAX_SUMMARY_RESULTS) -> str:
    """The first results of a SHACL validation report as one line: focus node, path, message."""
    lines: list[str] = []
    results = list(report.objects(None, SH.result))
    for result in sorted(results, key=str)[:limit]:
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        where = " ".join(f"<{t}>" if isinstance(t, URIRef) else "[]" for t in (focus, path) if t is not None)
        text = str(message) if isinstance(message, Literal) else "does not conform"
        lines.append(f"{where}: {text}" if where else text)
    more = f" (and {len(results) - limit} more)" if len(results) > limit else ""
    return "; ".join(lines) + more


class ShapeLibrary:
    """The bundled shape documents of one folder (by default the repository's ``shapes/``).

    ``base_url`` (the server's, ending in ``/``) lets :meth:`name_of` recognise the documents'
    served URLs ``{base}.ns/shapes/{name}`` as well as their ``https://w3id.org`` IRIs.
    """

    def __init__(self, folder: Path, *, base_url: str | None = None) -> None:
        self.folder = folder
        self.base_url = base_url
        self._lock = threading.RLock()
        self._documents: dict[str, Graph] = {}
        self._merged: dict[str, Graph] = {}
        self._prepared: dict[str, PreparedShapes] = {}

    @classmethod
    def bundled(cls, folder: Path | None = None, *, base_url: str | None = None) -> ShapeLibrary:
        return cls(folder if folder is not None else DEFAULT_FOLDER, base_url=base_url)

    # -- names and IRIs -----------------------------------------------------------------------
    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.ttl") if _NAME.match(p.stem))

    @staticmethod
    def iri(name: str) -> str:
        """The document IRI of a bundled name."""
        return BUNDLE + name

    def url(self, name: str) -> str | None:
        """Where this server serves the document, when the library knows the base URL."""
        return None if self.base_url is None else f"{self.base_url}{NS_SHAPES}{name}"

    def name_of(self, iri_or_name: str) -> str | None:
        """The bundled name behind a document IRI, a shape IRI inside one (``...#XShape``), a
        served URL ``{base}.ns/shapes/{name}`` or a bare name; ``None`` if it is none of those.
        Whether a document of that name exists is :meth:`path`'s business."""
        text = iri_or_name.split("#", 1)[0]
        for prefix in (BUNDLE, f"{self.base_url}{NS_SHAPES}" if self.base_url else None):
            if prefix and text.startswith(prefix):
                text = text[len(prefix) :]
                break
        else:
            if ":" in text:
                return None
        return text if _NAME.match(text) else None

    def path(self, name: str) -> Path:
        """The file of a bundled name; :class:`NotFound` (naming the known ones) otherwise."""
        path = self.folder / f"{name}.ttl"
        if not _NAME.match(name) or not path.is_file():
            known = ", ".join(self.names()) or "none"
            raise NotFound(f"there is no bundled shape named {name!r}; the bundled shapes are: {known}")
        return path

    # -- documents ----------------------------------------------------------------------------
    def source(self, name: str) -> bytes:
        """The Turtle as served: the file, preceded by ``@base <document IRI>`` so that relative
        IRIs in it keep meaning the ``https://w3id.org`` IRIs wherever it is fetched from."""
        return b"@base <" + self.iri(name).encode() + b"> .\n" + self.path(name).read_bytes()

    def document(self, name: str) -> Graph:
        """One bundled document, parsed once (with its IRI as base). Shared: do not modify."""
        with self._lock:
            found = self._documents.get(name)
            if found is None:
                found = parse(self.path(name).read_bytes(), formats.TURTLE, self.iri(name), _BUNDLED_LIMITS)
                self._documents[name] = found
            return found

    def referenced(self, graph: Graph) -> set[str]:
        """The bundled names whose shapes ``graph`` references (see ``_REFERENCES``)."""
        found: set[str] = set()
        for node in _referenced_nodes(graph):
            if isinstance(node, URIRef) and str(node).startswith(BUNDLE):
                name = self.name_of(str(node))
                if name is not None:
                    found.add(name)
        return found

    def with_references(self, graph: Graph, *, skip: Iterable[str] = ()) -> Graph:
        """``graph`` plus every bundled document it references, transitively (a new graph when
        anything is added; ``graph`` itself otherwise)."""
        seen = set(skip)
        todo = sorted(self.referenced(graph) - seen)
        if not todo:
            return graph
        merged = Graph(bind_namespaces="none")
        for prefix, namespace in graph.namespaces():
            merged.bind(prefix, namespace, override=False)
        merged += graph
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            doc = self.document(name)
            merged += doc
            todo.extend(sorted(self.referenced(doc) - seen))
        return merged

    def shapes_graph(self, iri_or_name: str) -> Graph:
        """The document (bundled IRI, served URL or name) merged with the bundled documents it
        references, transitively. Cached and shared: do not modify."""
        name = self._name(iri_or_name)
        with self._lock:
            found = self._merged.get(name)
            if found is None:
                found = self.with_references(self.document(name), skip=(name,))
                self._merged[name] = found
            return found

    def prepared(self, iri_or_name: str) -> PreparedShapes:
        """The document's merged shapes, ready for :meth:`PreparedShapes.validate`; cached."""
        name = self._name(iri_or_name)
        with self._lock:
            found = self._prepared.get(name)
            if found is None:
                targets = Targets.of(self.document(name))
                found = PreparedShapes(self.iri(name), self.shapes_graph(name), targets)
                self._prepared[name] = found
            return found

    def validate(self, data: Graph, shape: str) -> Validation:
        """Validate ``data`` against a bundled document (name or IRI)."""
        return self.prepared(shape).validate(data)

    def _name(self, iri_or_name: str) -> str:
        name = self.name_of(iri_or_name)
        if name is None:
            raise NotFound(f"{iri_or_name} is not a bundled shape (they are {BUNDLE}{{name}})")
        self.path(name)  # NotFound for an unknown name
        return name


def _referenced_nodes(graph: Graph) -> Iterator[Node]:
    for predicate in _REFERENCES:
        yield from graph.objects(None, predicate)
    for predicate in _LIST_REFERENCES:
        for head in graph.objects(None, predicate):
            try:
                yield from Collection(graph, head)
            except Exception:  # a malformed list: pyshacl reports it, we merge what we can
                continue


def shape_failure(shape: str, why: str) -> UnprocessableContent:
    """The error for a shape that cannot be used (unreadable, not RDF, not found): a 422 naming it."""
    return UnprocessableContent(f"the shape {shape} cannot be used: {why}")


__all__ = [
    "BUNDLE",
    "DEFAULT_FOLDER",
    "NS_SHAPES",
    "PreparedShapes",
    "ShapeLibrary",
    "Targets",
    "Validation",
    "shape_failure",
    "summary",
]
