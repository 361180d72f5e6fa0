"""The vocabulary and shapes every pod-server publishes, under ``{base}.ns/`` (docs/shapes.md).

| URL | what |
|---|---|
| ``{base}.ns/cbpp`` | ``vocab/cbpp.ttl``: Turtle, or any RDF type by content negotiation |
| ``{base}.ns/cbpp.jsonld`` | ``vocab/cbpp.jsonld``, the JSON-LD 1.1 context, as ``application/ld+json`` |
| ``{base}.ns/shapes/`` | a Turtle (or other RDF) listing of the bundled shape documents |
| ``{base}.ns/shapes/{name}`` | ``shapes/{name}.ttl``: Turtle, or any RDF type by content negotiation |

Read-only (GET, HEAD, OPTIONS), public, cacheable for an hour, with strong ETags. Turtle is
served as the file, preceded by ``@base <https://w3id.org/pod-server/...>`` so relative IRIs in
it keep their published meaning wherever the file is fetched from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request
from rdflib import Graph, URIRef

from pod_server.errors import MethodNotAllowed, NotAcceptable, NotFound
from pod_server.http import cors, ldp
from pod_server.http.request import raw_path
from pod_server.rdf import formats
from pod_server.rdf.convert import parse, serialize
from pod_server.rdf.limits import RdfLimits
from pod_server.shapes import NS_SHAPES, ShapeLibrary
from pod_server.vocab import LDP, PROV, RDF

ROUTE = ".ns/"
VOCABULARY = "cbpp"
VOCABULARY_IRI = "https://w3id.org/pod-server/cbpp"
"""The document IRI of the vocabulary (its terms are ``{VOCABULARY_IRI}#term``)."""
DEFAULT_VOCAB_FOLDER = Path(__file__).resolve().parents[2] / "vocab"
ALLOWED = ("GET", "HEAD", "OPTIONS")
CACHE_CONTROL = "public, max-age=3600"
_LIMITS = RdfLimits(max_bytes=16 << 20, max_triples=1_000_000)

bp = Blueprint("ns", __name__)


@dataclass
class NsServices:
    """The folders served. Representations are computed once per process and kept."""

    library: ShapeLibrary
    vocab_folder: Path = DEFAULT_VOCAB_FOLDER
    _cache: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict, repr=False)


def services() -> NsServices:
    found: NsServices = current_app.extensions["pod_server.ns"]
    return found


@bp.route("/" + ROUTE + "<path:name>", methods=ldp.METHODS)
@bp.route("/" + ROUTE, defaults={"name": ""}, methods=ldp.METHODS)
def published(name: str) -> Response:
    s = ldp.services()
    path = s.ids.to_path(request.host, raw_path(request))
    if not path.startswith("/" + ROUTE):
        # In subdomain mode, {pod host}/.ns/... is a resource of that pod.
        return ldp.resource(path)
    if cors.is_preflight():
        return cors.preflight_response()
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": ", ".join(ALLOWED)})
    if request.method not in ALLOWED:
        raise MethodNotAllowed(
            "the published vocabulary and shapes are read-only; read them with GET", allow=ALLOWED
        )
    ns = services()
    url = s.ids.to_url(path)
    name = path[len("/" + ROUTE) :]
    if name == VOCABULARY + ".jsonld":
        body, content_type = _context(ns)
    elif name == VOCABULARY:
        body, content_type = _rdf(ns, name, url, lambda: _vocabulary(ns))
    elif name == NS_SHAPES[len(ROUTE) :]:
        body, content_type = _rdf(ns, name, url, lambda: (_listing(ns.library, url), b""))
    elif name.startswith(NS_SHAPES[len(ROUTE) :]):
        shape = name[len(NS_SHAPES) - len(ROUTE) :]
        library = ns.library
        library.path(shape)  # NotFound, naming the bundled shapes
        body, content_type = _rdf(ns, name, url, lambda: (library.document(shape), library.source(shape)))
    else:
        raise NotFound(
            f"{url} is not published here; this server publishes {VOCABULARY}, {VOCABULARY}.jsonld "
            f"and shapes/ under {s.ids.to_url('/' + ROUTE)}"
        )
    return _respond(body, content_type)


def _vocabulary(ns: NsServices) -> tuple[Graph, bytes]:
    file = ns.vocab_folder / f"{VOCABULARY}.ttl"
    if not file.is_file():
        raise NotFound(f"the vocabulary is not installed on this server ({file.name} is missing)")
    data = file.read_bytes()
    turtle = b"@base <" + VOCABULARY_IRI.encode() + b"> .\n" + data
    return parse(data, formats.TURTLE, VOCABULARY_IRI, _LIMITS), turtle


def _context(ns: NsServices) -> tuple[bytes, str]:
    if formats.negotiate(request.headers.get("Accept"), [formats.JSONLD, "application/json"]) is None:
        raise NotAcceptable(f"the JSON-LD context is {formats.JSONLD}; add it (or */*) to Accept")
    file = ns.vocab_folder / f"{VOCABULARY}.jsonld"
    if not file.is_file():
        raise NotFound(f"the JSON-LD context is not installed on this server ({file.name} is missing)")
    return file.read_bytes(), formats.JSONLD


def _listing(library: ShapeLibrary, url: str) -> Graph:
    """``<{base}.ns/shapes/> ldp:contains <{base}.ns/shapes/{name}>``, each an alternate of its
    ``https://w3id.org`` document IRI (PROV-O ``prov:alternateOf``)."""
    graph = Graph(bind_namespaces="none")
    graph.bind("ldp", LDP._NS)
    graph.bind("prov", PROV._NS)
    listing = URIRef(url)
    graph.add((listing, RDF.type, LDP.BasicContainer))
    for name in library.names():
        served = URIRef(url + name)
        graph.add((listing, LDP.contains, served))
        graph.add((served, PROV.alternateOf, URIRef(library.iri(name))))
    return graph


def _rdf(ns: NsServices, name: str, url: str, load: Callable[[], tuple[Graph, bytes]]) -> tuple[bytes, str]:
    """The representation of an RDF document for this request's Accept (Turtle as the file)."""
    chosen = formats.negotiate(request.headers.get("Accept"), formats.WRITABLE)
    if chosen is None:
        raise NotAcceptable(f"{url} is available as {', '.join(formats.WRITABLE)}; ask for one in Accept")
    key = (name, chosen)
    cached = ns._cache.get(key)
    if cached is not None:
        return cached
    graph, turtle = load()
    body = turtle if chosen == formats.TURTLE and turtle else serialize(graph, chosen, url)
    ns._cache[key] = (body, chosen)
    return body, chosen


def _respond(body: bytes, content_type: str) -> Response:
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept",
        "Allow": ", ".join(ALLOWED),
    }
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    # For HEAD, werkzeug sends the headers (Content-Length included) without the body.
    return Response(body, status=200, content_type=content_type, headers=headers)


def init_app(app: Flask, ns_services: NsServices) -> None:
    """Register before the LDP routes' catch-all."""
    app.extensions["pod_server.ns"] = ns_services
    app.register_blueprint(bp)


__all__ = ["ROUTE", "VOCABULARY_IRI", "NsServices", "bp", "init_app", "services"]
