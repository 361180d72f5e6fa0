"""SPARQL queries over pods: on the server, with :func:`query`, or on the client, with :func:`federated`.

- :func:`endpoint_of` finds the SPARQL endpoint of the storage holding a URL: the storage
  description (``Link: <...>; rel="http://www.w3.org/ns/solid/terms#storageDescription"``, Solid
  Protocol §4.1) names it with ``void:sparqlEndpoint`` (VoID §6.3). ``None`` when it names none
  (most Solid servers have no endpoint).
- :func:`query` sends a query to an endpoint by the SPARQL 1.1 Protocol (§2.1.3, ``POST`` with
  ``Content-Type: application/sparql-query``), signed like every other request of the session, so
  the server answers from what this session may read. SELECT and ASK results come as SPARQL 1.1
  Query Results JSON, CONSTRUCT and DESCRIBE results as Turtle.
- :func:`federated` needs no endpoint and works with any Solid server: it fetches every RDF
  document the session may read under the given containers (or the given documents), across as
  many pods and servers as you like, and runs the query locally with rdflib. Each document is a
  named graph, named by its URL, and the default graph is their union: the same shape of dataset
  as a pod's own endpoint (which also holds the ACLs and container triples the session may read).

Both return a :class:`QueryResult`. Failures raise the exception tree of :mod:`pod_client.errors`:
a refusal from the endpoint keeps its status (400 for a syntax error, 422 for a query it will not
run, 503 for a timeout) and the server's message.

What :func:`federated` reads, and what it never does:

- a container source is walked recursively with :meth:`pod_client.pod.Pod.list`; only resources
  below the container are followed (a listing cannot send the client, and its token, elsewhere);
- containers themselves are not in the dataset (their representation is mostly the generated
  listing), nor are the auxiliary resources (``.acl``, ``.meta``) the walk comes across: they
  describe resources, they are not data. A document you name as a source is always read;
- a resource the session may not read (401, 403) or that is gone (404, 410) is skipped, and so is
  one that is not RDF or does not parse; :attr:`QueryResult.skipped` says which and why. Any other
  failure (a server error, no answer) raises;
- JSON-LD naming a remote ``@context`` is skipped, never fetched (see :mod:`pod_client.pod`);
- the query runs on the fetched documents only: ``SERVICE`` and ``FROM`` / ``FROM NAMED`` are
  refused before anything is fetched, since rdflib would otherwise fetch those URLs itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urldefrag, urlsplit

from pyparsing import ParseBaseException
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Result
from rdflib.term import Node

from pod_client.errors import PodClientError, raise_for_status
from pod_client.links import links, parent, without_query
from pod_client.pod import RDF_ACCEPT, RDF_FORMATS, Entry, essence, parse_rdf
from pod_client.vocab import SOLID, VOID

if TYPE_CHECKING:
    from pod_client.pod import Pod

SPARQL_QUERY = "application/sparql-query"
SPARQL_JSON = "application/sparql-results+json"
SPARQL_XML = "application/sparql-results+xml"
QUERY_ACCEPT = f"{SPARQL_JSON}, text/turtle;q=0.9, application/n-triples;q=0.8, {SPARQL_XML};q=0.5"
"""What :func:`query` asks for: JSON results for SELECT and ASK, Turtle for CONSTRUCT and DESCRIBE
(an endpoint picks among the formats its query form can take; SPARQL 1.1 Protocol §2.1)."""

WORKERS = 8
"""Requests :func:`federated` keeps in flight at once."""
MAX_DOCUMENTS = 10_000
"""The most documents :func:`federated` reads for one query, unless told otherwise."""

_AUXILIARY = (".acl", ".meta")
_GONE = (404, 410)
_UNREADABLE = (401, 403)

Kind = Literal["solutions", "boolean", "graph"]
Row = dict[str, Node]
"""One solution: variable name (without ``?``) -> rdflib term; unbound variables are absent."""


@dataclass(frozen=True)
class Skipped:
    """A resource :func:`federated` did not query: ``status`` is the HTTP status that refused it
    (401, 403, 404, 410), or ``None`` when it was read but is not usable RDF; ``reason`` says why."""

    url: str
    status: int | None
    reason: str


@dataclass
class QueryResult:
    """The answer to a query. ``kind`` says which fields hold it:

    - ``"solutions"`` (SELECT): ``variables`` (names without ``?``, in the query's order) and
      ``rows``, one dict per solution mapping names to rdflib terms (unbound names are absent);
    - ``"boolean"`` (ASK): ``boolean``;
    - ``"graph"`` (CONSTRUCT, DESCRIBE): ``graph``, an rdflib :class:`~rdflib.Graph`.

    A :func:`federated` result also lists the ``documents`` it queried (the named graphs) and the
    resources it ``skipped``; both are empty for an endpoint's answer.
    """

    kind: Kind
    variables: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None
    documents: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The result as SPARQL 1.1 Query Results JSON (§3): ``{"head": ..., "results": ...}``, or
        ``{"head": {}, "boolean": ...}`` for ASK. A graph has no such form: :class:`ValueError`."""
        if self.kind == "boolean":
            return {"head": {}, "boolean": bool(self.boolean)}
        if self.kind == "graph":
            raise ValueError("a CONSTRUCT or DESCRIBE result is a graph: serialize result.graph instead")
        bindings = [{name: term_to_json(term) for name, term in row.items()} for row in self.rows]
        return {"head": {"vars": list(self.variables)}, "results": {"bindings": bindings}}

    def to_csv(self) -> str:
        """The result as SPARQL 1.1 Query Results CSV (§2): a header of variable names, then one
        line per solution with IRIs, lexical forms of literals and ``_:`` blank nodes, CRLF line
        ends. An ASK result is one column, ``_askResult``, as Apache Jena writes it."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        if self.kind == "boolean":
            writer.writerows([["_askResult"], ["true" if self.boolean else "false"]])
            return out.getvalue()
        if self.kind == "graph":
            raise ValueError("a CONSTRUCT or DESCRIBE result is a graph: serialize result.graph instead")
        writer.writerow(self.variables)
        for row in self.rows:
            writer.writerow([_csv_value(row[name]) if name in row else "" for name in self.variables])
        return out.getvalue()


# -- result terms ---------------------------------------------------------------------------------------


def term_to_json(term: Node) -> dict[str, str]:
    """One RDF term as SPARQL 1.1 Query Results JSON writes it (§3.2.2)."""
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, RdfLiteral):
        written = {"type": "literal", "value": str(term)}
        if term.language:
            written["xml:lang"] = term.language
        elif term.datatype is not None:
            written["datatype"] = str(term.datatype)
        return written
    raise ValueError(f"not an RDF term: {term!r}")


def term_from_json(value: Mapping[str, Any]) -> Node:
    """One RDF term from SPARQL 1.1 Query Results JSON (§3.2.2; also the older ``typed-literal``)."""
    kind, text = value.get("type"), value.get("value")
    if not isinstance(text, str):
        raise ValueError(f"a result term without a string value: {value}")
    if kind == "uri":
        return URIRef(text)
    if kind == "bnode":
        return BNode(text)
    if kind in ("literal", "typed-literal"):
        language, datatype = value.get("xml:lang"), value.get("datatype")
        if language:
            return RdfLiteral(text, lang=str(language))
        return RdfLiteral(text, datatype=URIRef(str(datatype)) if datatype else None)
    raise ValueError(f"a result term of type {kind!r}, which this client does not read")


def _csv_value(term: Node) -> str:
    return f"_:{term}" if isinstance(term, BNode) else str(term)


def _solutions_json(document: Any, url: str) -> QueryResult:
    """A :class:`QueryResult` from a SPARQL 1.1 Query Results JSON document."""
    try:
        if "boolean" in document:
            return QueryResult("boolean", boolean=bool(document["boolean"]))
        variables = [str(name) for name in document["head"].get("vars", [])]
        rows = [
            {str(name): term_from_json(value) for name, value in binding.items()}
            for binding in document["results"]["bindings"]
        ]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise PodClientError(f"the endpoint's JSON results are not SPARQL results: {exc}", url=url) from None
    return QueryResult("solutions", variables=variables, rows=rows)


def _from_rdflib(result: Result) -> QueryResult:
    if result.type == "ASK":
        return QueryResult("boolean", boolean=bool(result.askAnswer))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        graph = result.graph if result.graph is not None else Graph()
        return QueryResult("graph", graph=graph)
    variables = [str(v) for v in result.vars or []]
    rows = [
        {str(name): term for name, term in row.asdict().items() if term is not None}  # type: ignore[union-attr]
        for row in result
    ]
    return QueryResult("solutions", variables=variables, rows=rows)


# -- the endpoint ---------------------------------------------------------------------------------------


def _description_of(pod: Pod, url: str) -> str | None:
    """The storage description of the storage holding ``url``: the ``Link`` Solid Protocol §4.1
    puts on every resource of a storage, read from ``url`` or, failing that (an error answer may
    not carry it), from the nearest container above it that has it."""
    candidate: str | None = without_query(url)
    while candidate is not None:
        response = pod.session.request("HEAD", candidate)
        response.close()
        found = links(response).get(str(SOLID.storageDescription))
        if found:
            return found[0]
        candidate = parent(candidate)
    return None


def endpoint_of(pod: Pod, url: str) -> str | None:
    """The SPARQL endpoint of the storage holding ``url`` (any resource in it, or the storage root):
    the ``void:sparqlEndpoint`` its storage description names for that storage. ``None`` when the
    server names none, or when no resource from ``url`` up to the storage root tells where the
    storage description is: servers may leave the ``Link`` off a 401 or 403 answer, so from a
    resource the session may not read, use one it may (the owner's WebID profile, say)."""
    description = _description_of(pod, url)
    if description is None:
        return None
    graph = pod.get_graph(description).graph
    target = without_query(url)
    named = [
        (str(storage), str(endpoint))
        for storage, endpoint in graph.subject_objects(VOID.sparqlEndpoint)
        if isinstance(endpoint, URIRef)
    ]
    holding = [pair for pair in named if target.startswith(pair[0])]
    if holding:
        return max(holding, key=lambda pair: len(pair[0]))[1]
    if len({endpoint for _, endpoint in named}) == 1:  # a description that names the storage oddly
        return named[0][1]
    return None


def query(
    pod: Pod,
    sparql: str,
    *,
    endpoint: str | None = None,
    url: str | None = None,
    timeout: float = 60,
) -> QueryResult:
    """Run ``sparql`` on a SPARQL endpoint as ``pod``'s session: ``endpoint`` if given, else the
    endpoint of the storage holding ``url`` (:func:`endpoint_of`). The server answers from what
    the session may read.

    Raises :class:`ValueError` without ``endpoint`` or ``url``, :class:`PodClientError` when the
    storage has no endpoint (query it with :func:`federated` instead) and the
    :mod:`pod_client.errors` tree for the endpoint's refusals, each with the server's message.
    """
    if endpoint is None:
        if url is None:
            raise ValueError("say where to query: endpoint=... or url=... (any resource in the pod)")
        endpoint = endpoint_of(pod, url)
        if endpoint is None:
            raise PodClientError(
                "found no SPARQL endpoint: the storage description names none (most Solid servers "
                "have no endpoint: query with federated() instead), or this session may read nothing "
                "on the way up from this URL to the storage (use a URL it may read, such as the "
                "owner's profile, or pass endpoint=...)",
                url=url,
            )
    response = pod.session.request(
        "POST",
        endpoint,
        headers={"Content-Type": f"{SPARQL_QUERY}; charset=utf-8", "Accept": QUERY_ACCEPT},
        data=sparql.encode("utf-8"),
        timeout=timeout,
    )
    try:
        raise_for_status(response)
        return _read_answer(response.content, response.headers.get("Content-Type"), endpoint)
    finally:
        response.close()


def _read_answer(body: bytes, content_type: str | None, endpoint: str) -> QueryResult:
    media_type = essence(content_type)
    if media_type in (SPARQL_JSON, "application/json"):
        try:
            document = json.loads(body)
        except ValueError:
            raise PodClientError("the endpoint's answer is not valid JSON", url=endpoint) from None
        return _solutions_json(document, endpoint)
    if media_type == SPARQL_XML:
        try:
            return _from_rdflib(Result.parse(io.BytesIO(body), format="xml"))
        except Exception as exc:  # rdflib's XML results parser raises many kinds
            raise PodClientError(f"the endpoint's XML results do not parse: {exc}", url=endpoint) from None
    if media_type in RDF_FORMATS:
        return QueryResult("graph", graph=parse_rdf(body, media_type, endpoint))
    raise PodClientError(
        f"the endpoint answered {media_type or 'without a type'}, not SPARQL results or RDF", url=endpoint
    )


# -- federated: fetch, then query locally -----------------------------------------------------------------


def prepare(sparql: str) -> Query:
    """``sparql`` parsed for running locally with rdflib, refused (:class:`PodClientError`) when it
    is not a valid SPARQL 1.1 query or would make rdflib fetch something: ``SERVICE`` queries
    another endpoint, ``FROM`` / ``FROM NAMED`` load the graphs they name."""
    try:
        prepared = prepareQuery(sparql)
    except ParseBaseException as exc:
        raise PodClientError(
            f"the query is not valid SPARQL 1.1 (line {exc.lineno}, column {exc.col}): {exc.msg}"
        ) from None
    except Exception as exc:  # rdflib's algebra translation raises plain exceptions
        raise PodClientError(f"the query cannot be run: {exc}") from None
    algebra = prepared.algebra
    clauses = _field(algebra, "datasetClause")
    if clauses:
        named = _field(clauses[0], "named")
        keyword, iri = ("FROM", _field(clauses[0], "default")) if named is None else ("FROM NAMED", named)
        raise PodClientError(
            f"{keyword} <{iri}> would make rdflib fetch that URL: the dataset of a federated query is "
            "the documents read from its sources. Remove it; to query one document, use "
            "GRAPH <its URL> { ... }, or add it to the sources"
        )
    for node in _nodes(algebra):
        if node.name == "ServiceGraphPattern":
            raise PodClientError(
                f"SERVICE <{_field(node, 'term')}> would query another endpoint: a federated query only "
                "reads its sources. Remove the SERVICE clause, and add that pod's container to the sources"
            )
    return prepared


def _field(node: Any, name: str) -> Any:
    """An algebra node's field, ``None`` when absent (``CompValue.get`` returns the name itself)."""
    return dict.get(node, name) if isinstance(node, CompValue) else None


def _nodes(tree: Any) -> Iterator[CompValue]:
    """Every algebra node under ``tree``, depth first (expressions and subqueries included)."""
    stack = [tree]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set):
            stack.extend(item)


class _Dataset(Dataset):
    """rdflib's :class:`~rdflib.Dataset`, without the warning its own SPARQL evaluation triggers:
    ``GRAPH ?g`` calls ``Dataset.contexts``, which rdflib 7 deprecates in favour of ``graphs``
    (the same generator)."""

    def contexts(self, triple: Any = None) -> Iterator[Graph]:  # type: ignore[override]
        return self.graphs(triple)


@dataclass
class _Found:
    """What the walk found: documents to read (URL -> media type from the listing, if it said)."""

    documents: dict[str, str | None] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def _passed_over(url: str, error: PodClientError) -> Skipped | None:
    """A :class:`Skipped` for a refusal a federated query passes over (401, 403, 404, 410), else
    ``None``: the error is raised."""
    if error.status in _UNREADABLE:
        return Skipped(url, error.status, f"not readable with this session: {error.message}")
    if error.status in _GONE:
        return Skipped(url, error.status, f"gone: {error.message}")
    return None


def _walk(pod: Pod, sources: Iterable[str], pool: ThreadPoolExecutor, limit: int) -> _Found:
    found = _Found()
    containers: list[str] = []
    for source in sources:
        url = urldefrag(source)[0]
        if url.endswith("/"):
            containers.append(url)
        else:
            found.documents.setdefault(url, None)
    seen: set[str] = set()

    def listing(container: str) -> tuple[str, list[Entry] | Skipped]:
        try:
            return container, pod.list(container)
        except PodClientError as error:
            skipped = _passed_over(container, error)
            if skipped is None:
                raise
            return container, skipped

    while containers:
        level = [c for c in dict.fromkeys(containers) if c not in seen]
        seen.update(level)
        containers = []
        for container, entries in pool.map(listing, level):
            if isinstance(entries, Skipped):
                found.skipped.append(entries)
                continue
            for entry in entries:
                child = urldefrag(entry.url)[0]
                if not child.startswith(container) or child == container:
                    continue  # only what is below the container: a listing cannot point elsewhere
                if urlsplit(child).path.endswith(_AUXILIARY):
                    continue
                if entry.is_container:
                    containers.append(child if child.endswith("/") else child + "/")
                else:
                    found.documents.setdefault(child, entry.content_type)
            if len(found.documents) > limit:
                raise _too_many(limit)
    if len(found.documents) > limit:
        raise _too_many(limit)
    return found


def _too_many(limit: int) -> PodClientError:
    return PodClientError(
        f"the sources hold more than {limit} documents; name smaller containers or fewer documents, "
        "or raise max_documents"
    )


def _fetch(pod: Pod, url: str, listed_type: str | None) -> Graph | Skipped:
    """The document at ``url`` as a graph, or why it is skipped. A type the listing gave that is not
    RDF is skipped without a request; a body that is not RDF is not downloaded."""
    if listed_type and essence(listed_type) not in RDF_FORMATS:
        return Skipped(url, None, f"not RDF ({essence(listed_type)})")
    response = pod.session.request("GET", url, headers={"Accept": RDF_ACCEPT}, stream=True)
    with response:
        try:
            raise_for_status(response)
        except PodClientError as error:
            skipped = _passed_over(url, error)
            if skipped is None:
                raise
            return skipped
        media_type = essence(response.headers.get("Content-Type"))
        if media_type not in RDF_FORMATS:
            return Skipped(url, None, f"not RDF ({media_type or 'no Content-Type'})")
        body = response.content
    try:
        return parse_rdf(body, media_type, without_query(url))
    except PodClientError as error:
        return Skipped(url, None, error.message)


def federated(
    pod: Pod,
    sparql: str,
    sources: Iterable[str],
    *,
    workers: int = WORKERS,
    max_documents: int = MAX_DOCUMENTS,
) -> QueryResult:
    """Run ``sparql`` on the client over every RDF document ``pod``'s session may read in
    ``sources``: container URLs (ending in "/", walked recursively) and document URLs, on any
    number of pods and servers. Each document is a named graph named by its URL; the default
    graph is their union. Requests go ``workers`` at a time.

    The result lists the ``documents`` queried and the resources ``skipped`` (not readable, gone,
    not RDF); see the module docstring for what is read and what is refused. More than
    ``max_documents`` documents raise :class:`PodClientError` before any is fetched.
    """
    prepared = prepare(sparql)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="pod-query") as pool:
        found = _walk(pod, list(sources), pool, max_documents)
        urls = list(found.documents)
        fetched = list(pool.map(lambda url: _fetch(pod, url, found.documents[url]), urls))
    dataset = _Dataset(default_union=True)
    documents: list[str] = []
    skipped = list(found.skipped)
    for url, graph in zip(urls, fetched, strict=True):
        if isinstance(graph, Skipped):
            skipped.append(graph)
            continue
        named = dataset.graph(URIRef(url))
        named.addN((s, p, o, named) for s, p, o in graph)
        documents.append(url)
    try:
        result = _from_rdflib(dataset.query(prepared))
    except Exception as exc:  # rdflib's evaluation raises plain exceptions (type errors, bad functions)
        raise PodClientError(f"the query failed on the fetched documents: {exc}") from None
    result.documents = documents
    result.skipped = skipped
    return result


__all__ = [
    "MAX_DOCUMENTS",
    "QUERY_ACCEPT",
    "WORKERS",
    "QueryResult",
    "Row",
    "Skipped",
    "endpoint_of",
    "federated",
    "prepare",
    "query",
    "term_from_json",
    "term_to_json",
]
