"""The SPARQL endpoint of each pod: ``{storage root}.well-known/sparql``, read-only.

SPARQL 1.1 Protocol §2.1 query operation, all three ways:

- ``GET ?query=...`` (§2.1.1);
- ``POST`` with ``Content-Type: application/x-www-form-urlencoded`` and ``query=...`` (§2.1.2);
- ``POST`` with ``Content-Type: application/sparql-query`` and the query as the body (§2.1.3).

The dataset is exactly what the requester may read: every RDF document of the pod they may
``GET`` is a named graph (named by its URL) and the default graph is their union. So the
protocol's ``default-graph-uri`` and ``named-graph-uri`` parameters are refused with 422, like
``FROM`` in the query (:mod:`pod_server.query.guard`). Nothing the endpoint answers, errors
included, depends on documents the requester may not read.

``GET`` without a query returns the SPARQL 1.1 Service Description (§2) of the endpoint; the
pod's storage description names the endpoint with ``void:sparqlEndpoint``.

A request reads top to bottom: route -> who is asking -> check the query -> which documents they
may read -> run it on the index -> write the results.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Response, current_app, request
from rdflib import Graph, URIRef

from pod_server.access.credentials import Credentials
from pod_server.errors import (
    BadRequest,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    UnprocessableContent,
    UnsupportedMediaType,
)
from pod_server.http import cors, ldp
from pod_server.http.request import raw_path, read_body
from pod_server.ldp.identifiers import WELL_KNOWN
from pod_server.query import guard, results
from pod_server.query.index import QueryIndex, QueryLimits, QueryOutcome
from pod_server.rdf import formats
from pod_server.rdf.convert import serialize
from pod_server.vocab import RDF, SD, VOID

ROUTE = WELL_KNOWN + "sparql"
"""The endpoint inside each storage root."""
SPARQL_QUERY = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"
ALLOWED = ("GET", "HEAD", "OPTIONS", "POST")
MAX_BODY_BYTES = 3 * guard.MAX_QUERY_BYTES + 1024
"""A form-encoded query may take up to three bytes per byte of query."""
DATASET_PARAMETERS = ("default-graph-uri", "named-graph-uri")

bp = Blueprint("query", __name__)


class ReadFilter(Protocol):
    """Which of these documents may the credentials read (WAC's answer to ``GET`` on each)?"""

    def readable(
        self, paths: Collection[str], credentials: Credentials, *, acl_paths: Collection[str]
    ) -> set[str]: ...


@dataclass(frozen=True)
class QueryServices:
    """What the endpoint needs, built once in ``create_app`` and kept on ``app.extensions``."""

    index: QueryIndex
    access: ReadFilter
    limits: QueryLimits = field(default_factory=QueryLimits)


def services() -> QueryServices:
    found: QueryServices = current_app.extensions["pod_server.query"]
    return found


def describe_storage(graph: Graph, storage: URIRef) -> None:
    """A storage description names its pod's endpoint (VoID §6.3 ``void:sparqlEndpoint``)."""
    graph.add((storage, VOID.sparqlEndpoint, URIRef(storage + ROUTE)))


@bp.route("/" + ROUTE, defaults={"_pod": ""}, methods=ldp.METHODS)
@bp.route("/<path:_pod>/" + ROUTE, methods=ldp.METHODS)
def endpoint(_pod: str) -> Response:
    s = ldp.services()
    path = s.ids.to_path(request.host, raw_path(request))
    root = s.ids.storage_root(path)
    if root is None or path != root + ROUTE:
        # A resource that merely ends in .well-known/sparql (below a pod's root, or any path in
        # single-pod mode): the LDP routes serve it.
        return ldp.resource(path)
    if cors.is_preflight():
        return cors.preflight_response()
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": ", ".join(ALLOWED)})
    if request.method not in ALLOWED:
        raise MethodNotAllowed(
            f"the SPARQL endpoint only reads: query it with {', '.join(ALLOWED)}; "
            "change resources at their own URLs",
            allow=ALLOWED,
        )
    url = s.ids.to_url(path)
    try:
        s.context.store.stat(root)
    except NotFound:
        raise NotFound(f"there is no pod at {s.ids.to_url(root)}") from None
    credentials = ldp.credentials(s, url)
    sparql = _read_query()
    if sparql is None:
        return _service_description(url)
    form = guard.check(sparql)
    media_type = results.choose(form, request.headers.get("Accept"))

    q = services()
    # Empty sources (most containers) add nothing to the dataset but cost a decision and a scan.
    sources, acl_paths = q.index.sources(root)
    readable = q.access.readable(sources, credentials, acl_paths=acl_paths)
    graphs = [s.ids.to_url(p) for p in sorted(readable)]
    outcome = q.index.query(sparql, graphs=graphs, limits=q.limits)
    return _respond(_render(outcome, media_type))


def _read_query() -> str | None:
    """The query text of a SPARQL 1.1 Protocol query operation (§2.1); ``None`` for a plain GET."""
    params = {name: request.args.getlist(name) for name in request.args}
    if request.method == "POST":
        content_type = formats.essence(request.headers.get("Content-Type"))
        body = read_body(request, MAX_BODY_BYTES)
        if content_type == FORM:
            try:
                form = parse_qs(_utf8(body), keep_blank_values=True, max_num_fields=100)
            except ValueError:  # more than max_num_fields
                raise BadRequest("the form has too many fields; send query=... and nothing else") from None
            for name, values in form.items():
                params.setdefault(name, []).extend(values)
        elif content_type == SPARQL_QUERY:
            if "query" in params:
                raise BadRequest("send the query once: in the body or as ?query=, not both")
            params["query"] = [_utf8(body)]
        elif content_type == formats.SPARQL_UPDATE:
            raise UnprocessableContent(guard.UPDATE_REFUSAL)
        else:
            raise UnsupportedMediaType(
                f"POST the query with Content-Type: {SPARQL_QUERY}, or as a form ({FORM}) with query=..."
            )
    if "update" in params:  # §2.2, the update operation
        raise UnprocessableContent(guard.UPDATE_REFUSAL)
    for name in DATASET_PARAMETERS:
        if params.get(name):
            raise guard.dataset_refusal(name, params[name][0])
    queries = params.get("query", [])
    if len(queries) > 1:
        raise BadRequest("send exactly one query parameter")
    if not queries:
        if request.method == "POST":
            raise BadRequest("the form has no query; send query=... (SPARQL 1.1 Protocol §2.1.2)")
        return None
    return queries[0]


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(
            "the query is not valid UTF-8 (SPARQL 1.1 Protocol §2.1: queries are UTF-8)"
        ) from None


def _render(outcome: QueryOutcome, media_type: str) -> results.Rendered:
    if outcome.kind == "boolean":
        return results.boolean(bool(outcome.boolean), media_type)
    if outcome.kind == "graph":
        profile = formats.accept_params(request.headers.get("Accept"), formats.JSONLD).get("profile")
        return results.graph(outcome.triples, media_type, jsonld_profile=profile)
    return results.solutions(outcome.variables, outcome.rows, media_type)


def _respond(rendered: results.Rendered) -> Response:
    response = Response(rendered.body, status=200, content_type=rendered.content_type)
    # The answer depends on who asks and changes with every write.
    response.headers["Vary"] = "Accept, Authorization"
    response.headers["Cache-Control"] = "no-store"
    return response


def _service_description(url: str) -> Response:
    """SPARQL 1.1 Service Description §2: GET on the endpoint without a query describes it."""
    accept = request.headers.get("Accept")
    media_type = formats.negotiate(accept, formats.WRITABLE)
    if media_type is None:
        raise NotAcceptable(
            f"send a query as ?query=...; without one, this endpoint describes itself as "
            f"{', '.join(formats.WRITABLE)}"
        )
    service = URIRef(url)
    graph = Graph(bind_namespaces="none")
    graph.bind("sd", SD._NS)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    # The default graph is the union of the named graphs (one per readable document).
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    response = Response(serialize(graph, media_type, url), status=200, content_type=media_type)
    response.headers["Vary"] = "Accept"
    return response


def init_app(app: Flask, query_services: QueryServices) -> None:
    """Register before the LDP routes' catch-all."""
    app.extensions["pod_server.query"] = query_services
    app.register_blueprint(bp)


__all__ = ["ROUTE", "QueryServices", "ReadFilter", "bp", "describe_storage", "init_app", "services"]
