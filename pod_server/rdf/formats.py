"""RDF media types and content negotiation (RFC 9110 §12.5.1).

Solid Protocol §5.1: servers MUST offer ``text/turtle`` and ``application/ld+json`` for RDF
sources. We read and write Turtle, JSON-LD, N-Triples, N-Quads and RDF/XML, and read N3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TURTLE = "text/turtle"
JSONLD = "application/ld+json"
NTRIPLES = "application/n-triples"
NQUADS = "application/n-quads"
RDFXML = "application/rdf+xml"
N3 = "text/n3"
SPARQL_UPDATE = "application/sparql-update"
HTML = "text/html"


@dataclass(frozen=True, slots=True)
class RdfFormat:
    media_type: str
    rdflib_name: str
    writable: bool


FORMATS: dict[str, RdfFormat] = {
    TURTLE: RdfFormat(TURTLE, "turtle", True),
    JSONLD: RdfFormat(JSONLD, "json-ld", True),
    NTRIPLES: RdfFormat(NTRIPLES, "nt", True),
    NQUADS: RdfFormat(NQUADS, "nquads", True),
    RDFXML: RdfFormat(RDFXML, "xml", True),
    N3: RdfFormat(N3, "n3", False),
}
"""Every RDF media type we read, keyed by essence."""

ALIASES = {"application/x-turtle": TURTLE, "text/plain+ntriples": NTRIPLES, "application/json+ld": JSONLD}

WRITABLE: tuple[str, ...] = (TURTLE, JSONLD, NTRIPLES, NQUADS, RDFXML)
"""What an RDF source can be served as, in the server's order of preference."""

READABLE: tuple[str, ...] = (TURTLE, JSONLD, NTRIPLES, NQUADS, RDFXML, N3)


def essence(content_type: str | None) -> str:
    """``'Text/Turtle; charset=utf-8'`` -> ``'text/turtle'``; aliases map to their canonical type."""
    if not content_type:
        return ""
    bare = content_type.split(";", 1)[0].strip().lower()
    return ALIASES.get(bare, bare)


def parameters(content_type: str | None) -> dict[str, str]:
    """The parameters of a media type, names lower-cased, quotes removed."""
    out: dict[str, str] = {}
    if not content_type:
        return out
    for part in content_type.split(";")[1:]:
        name, sep, value = part.partition("=")
        if sep:
            out[name.strip().lower()] = value.strip().strip('"')
    return out


def is_rdf(content_type: str | None) -> bool:
    return essence(content_type) in FORMATS


@dataclass(frozen=True, slots=True)
class _Range:
    type: str
    subtype: str
    q: float
    params: dict[str, str]


def _parse_accept(accept: str) -> list[_Range]:
    ranges: list[_Range] = []
    for item in accept.split(","):
        item = item.strip()
        if not item:
            continue
        mt, *rest = item.split(";")
        main, _, sub = mt.strip().lower().partition("/")
        if not main or not sub:
            continue
        q = 1.0
        params: dict[str, str] = {}
        for p in rest:
            name, _, value = p.partition("=")
            name = name.strip().lower()
            value = value.strip().strip('"')
            if name == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
            else:
                params[name] = value
        ranges.append(_Range(main, sub, q, params))
    return ranges


def _quality(offer: str, ranges: list[_Range]) -> tuple[float, int]:
    """The q of the most specific range matching ``offer``, and that range's specificity."""
    main, _, sub = offer.partition("/")
    best: tuple[float, int] = (-1.0, -1)
    for r in ranges:
        if r.type == main and r.subtype == sub:
            spec = 2
        elif r.type == main and r.subtype == "*":
            spec = 1
        elif r.type == "*" and r.subtype == "*":
            spec = 0
        else:
            continue
        if spec > best[1]:
            best = (r.q, spec)
    return best


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers most, ties going to the earlier offer; ``None`` if none is acceptable.

    A missing or empty Accept header accepts anything (RFC 9110 §12.5.1).
    """
    if not offers:
        return None
    if not accept or not accept.strip():
        return offers[0]
    ranges = _parse_accept(accept)
    if not ranges:
        return offers[0]
    best: str | None = None
    best_q = 0.0
    for offer in offers:
        q, spec = _quality(offer, ranges)
        if spec >= 0 and q > best_q:
            best, best_q = offer, q
    return best


def accept_params(accept: str | None, media_type: str) -> dict[str, str]:
    """The parameters the client gave on the Accept range that names ``media_type`` exactly
    (e.g. a JSON-LD ``profile``)."""
    if not accept:
        return {}
    main, _, sub = media_type.partition("/")
    for r in _parse_accept(accept):
        if r.type == main and r.subtype == sub:
            return r.params
    return {}


__all__ = [
    "FORMATS",
    "HTML",
    "JSONLD",
    "N3",
    "NQUADS",
    "NTRIPLES",
    "RDFXML",
    "READABLE",
    "SPARQL_UPDATE",
    "TURTLE",
    "WRITABLE",
    "RdfFormat",
    "accept_params",
    "essence",
    "is_rdf",
    "negotiate",
    "parameters",
]
