"""Small, forgiving readers of rdflib graphs: a missing or malformed value is ``None``, never an
exception, so one bad triple costs one blank cell rather than a page."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urldefrag

from pod_client.vocab import LDP, RDF
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from community_app.fetch import Reader, ReadError


def one(graph: Graph, subject: Node, predicate: URIRef) -> Node | None:
    """One object (the smallest, so the answer is stable when there are several)."""
    found = sorted(graph.objects(subject, predicate), key=str)
    return found[0] if found else None


def text(graph: Graph, subject: Node, predicate: URIRef) -> str | None:
    value = one(graph, subject, predicate)
    return str(value) if isinstance(value, Literal) and str(value).strip() else None


def iri(graph: Graph, subject: Node, predicate: URIRef) -> str | None:
    value = one(graph, subject, predicate)
    return str(value) if isinstance(value, URIRef) else None


def iris(graph: Graph, subject: Node, predicate: URIRef) -> tuple[str, ...]:
    return tuple(sorted(str(o) for o in graph.objects(subject, predicate) if isinstance(o, URIRef)))


def number(node: Node | None) -> float | None:
    if not isinstance(node, Literal):
        return None
    try:
        value = float(str(node))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # no NaN or infinity


def typed(graph: Graph, kind: URIRef) -> list[URIRef]:
    return sorted((s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef)), key=str)


def local_name(value: str) -> str:
    """``https://w3id.org/pod-server/kinds#care`` -> ``care``; ``{c}roles#admin`` -> ``admin``."""
    tail = value.rsplit("#", 1)[1] if "#" in value else value.rstrip("/").rsplit("/", 1)[-1]
    return tail or value


def instant(value: str | None) -> datetime | None:
    """An xsd:dateTime(Stamp) lexical as an aware datetime (UTC when no offset), else ``None``."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def document(url: str) -> str:
    return urldefrag(url)[0]


def children(reader: Reader, container: str, limit: int) -> list[str]:
    """The resources a container lists (``ldp:contains``), sorted, at most ``limit`` of the last
    ones (names such as ``2026-11`` or time-ordered ids sort oldest first). Raises ReadError."""
    graph = reader.graph(container)
    found = sorted({str(o) for o in graph.objects(URIRef(container), LDP.contains) if isinstance(o, URIRef)})
    inside = [u for u in found if u.startswith(container) and u != container and not u.endswith("/")]
    return inside[-limit:]


def within(base: str, value: str | None, default: str) -> str:
    """``value`` when it is a container inside ``base``, else ``default``: the app reads only the
    community's own containers, whatever its profile says."""
    if value and value.startswith(base) and value.endswith("/"):
        return value
    return default


__all__ = [
    "ReadError",
    "children",
    "document",
    "instant",
    "iri",
    "iris",
    "local_name",
    "number",
    "one",
    "text",
    "typed",
    "within",
]
