"""SPARQL query results as bytes, in the format the client asked for.

SELECT and ASK answers are written in the four SPARQL 1.1 results formats:

- ``application/sparql-results+json`` (SPARQL 1.1 Query Results JSON Format), the default; also
  served as ``application/json`` to clients that ask for plain JSON;
- ``application/sparql-results+xml`` (SPARQL Query Results XML Format, Second Edition);
- ``text/csv`` and ``text/tab-separated-values`` (SPARQL 1.1 Query Results CSV and TSV Formats).
  Those define tables only; an ASK answer is written as a one-column table named ``_askResult``
  holding ``true`` or ``false``, as Apache Jena does.

CONSTRUCT and DESCRIBE answers are RDF graphs, written in any of :data:`pod_server.rdf.formats.WRITABLE`
(``text/turtle`` by default): Turtle, N-Triples and N-Quads by pyoxigraph's serialisers (fast, and
they can write every term the engine returns); JSON-LD and RDF/XML by
:func:`pod_server.rdf.convert.serialize`, so they match what the server sends for resources
(compacted JSON-LD that honours the ``profile`` parameter). A graph RDF/XML cannot express (a
predicate with no XML name) is answered with 406 naming the formats that can.

Terms are RDF 1.1 terms: IRIs, blank nodes and literals (the query checker admits SPARQL 1.1 only,
and stored documents hold no triple terms).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pod_server.errors import NotAcceptable, PodError
from pod_server.query.guard import QueryForm
from pod_server.rdf import formats
from pod_server.rdf.convert import COMMON_PREFIXES, serialize
from pod_server.vocab import SPARQL_RESULTS_XML, XSD

SPARQL_JSON = "application/sparql-results+json"
SPARQL_XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
JSON = "application/json"

RESULT_TYPES: tuple[str, ...] = (SPARQL_JSON, SPARQL_XML, CSV, TSV, JSON)
"""What a SELECT or ASK answer can be written as, in the server's order of preference."""
GRAPH_TYPES: tuple[str, ...] = formats.WRITABLE
"""What a CONSTRUCT or DESCRIBE answer can be written as, in the server's order of preference."""

Term = Any
"""A pyoxigraph ``NamedNode``, ``BlankNode`` or ``Literal``."""
Row = Mapping[str, Term]
"""One solution: variable name (without ``?``) -> value; unbound variables are absent."""

_XSD_STRING = str(XSD.string)
# XML 1.0 §2.2 Char: a results document cannot carry these at all, escaped or not.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str


def offers(form: QueryForm) -> tuple[str, ...]:
    return GRAPH_TYPES if form in ("CONSTRUCT", "DESCRIBE") else RESULT_TYPES


def choose(form: QueryForm, accept: str | None) -> str:
    """The media type to answer a ``form`` query with, by ``Accept`` (RFC 9110 §12.5.1); 406 when
    nothing fits, naming what would."""
    available = offers(form)
    chosen = formats.negotiate(accept, available)
    if chosen is None:
        raise NotAcceptable(
            f"{'an' if form == 'ASK' else 'a'} {form} query is answered as "
            f"{', '.join(available)}; none of them fits Accept: {accept}"
        )
    return chosen


# -- SELECT ---------------------------------------------------------------------------------------
def solutions(variables: Sequence[str], rows: Iterable[Row], media_type: str) -> Rendered:
    """A SELECT answer: ``variables`` in projection order, ``rows`` of bound values."""
    writer = _SOLUTION_WRITERS[media_type]
    return Rendered(writer(variables, rows), _content_type(media_type))


def _json_term(term: Term) -> dict[str, str]:
    # SPARQL 1.1 Query Results JSON §3.2.2.
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != _XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _json_solutions(variables: Sequence[str], rows: Iterable[Row]) -> bytes:
    document = {
        "head": {"vars": list(variables)},
        "results": {"bindings": [{k: _json_term(v) for k, v in row.items()} for row in rows]},
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _xml_safe(text: str) -> str:
    if _NOT_XML_CHAR.search(text):
        raise NotAcceptable(
            "a value in these results holds a control character XML 1.0 cannot carry; "
            f"ask for {SPARQL_JSON} or {TSV} instead"
        )
    return text


def _xml_text(text: str) -> str:
    return escape(_xml_safe(text), {"\r": "&#13;"})


def _xml_attr(text: str) -> str:
    return quoteattr(_xml_safe(text), {"\r": "&#13;", "\n": "&#10;", "\t": "&#9;"})


def _xml_term(term: Term) -> str:
    # SPARQL Query Results XML Format §2.3.1.
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if term.language:
        attribute = f" xml:lang={_xml_attr(term.language)}"
    elif term.datatype.value != _XSD_STRING:
        attribute = f" datatype={_xml_attr(term.datatype.value)}"
    else:
        attribute = ""
    return f"<literal{attribute}>{_xml_text(term.value)}</literal>"


_XML_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="{SPARQL_RESULTS_XML}">'


def _xml_solutions(variables: Sequence[str], rows: Iterable[Row]) -> bytes:
    parts = [_XML_HEAD, "<head>"]
    parts += [f"<variable name={_xml_attr(v)}/>" for v in variables]
    parts.append("</head><results>")
    for row in rows:
        parts.append("<result>")
        parts += [f"<binding name={_xml_attr(k)}>{_xml_term(v)}</binding>" for k, v in row.items()]
        parts.append("</result>")
    parts.append("</results></sparql>\n")
    return "".join(parts).encode()


def _csv_field(text: str) -> str:
    # SPARQL 1.1 CSV §2: RFC 4180 quoting for fields holding a quote, comma, CR or LF.
    if any(c in text for c in '",\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_term(term: Term) -> str:
    # CSV §2.3: IRIs and literals without their syntax (no <>, quotes, language or datatype).
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    text: str = term.value
    return text


def _csv_solutions(variables: Sequence[str], rows: Iterable[Row]) -> bytes:
    lines = [",".join(_csv_field(v) for v in variables)]
    for row in rows:
        lines.append(",".join(_csv_field(_csv_term(row[v])) if v in row else "" for v in variables))
    return ("\r\n".join(lines) + "\r\n").encode()


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _tsv_term(term: Term) -> str:
    # TSV §3.2: terms in Turtle syntax; tab, newline and carriage return inside them escaped.
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    text: str = '"' + term.value.translate(_TSV_ESCAPES) + '"'
    if term.language:
        return f"{text}@{term.language}"
    if term.datatype.value != _XSD_STRING:
        return f"{text}^^<{term.datatype.value}>"
    return text


def _tsv_solutions(variables: Sequence[str], rows: Iterable[Row]) -> bytes:
    lines = ["\t".join(f"?{v}" for v in variables)]
    for row in rows:
        lines.append("\t".join(_tsv_term(row[v]) if v in row else "" for v in variables))
    return ("\n".join(lines) + "\n").encode()


_SOLUTION_WRITERS: dict[str, Callable[[Sequence[str], Iterable[Row]], bytes]] = {
    SPARQL_JSON: _json_solutions,
    JSON: _json_solutions,
    SPARQL_XML: _xml_solutions,
    CSV: _csv_solutions,
    TSV: _tsv_solutions,
}


# -- ASK ------------------------------------------------------------------------------------------
ASK_COLUMN = "_askResult"


def boolean(value: bool, media_type: str) -> Rendered:
    """An ASK answer."""
    text = "true" if value else "false"
    bodies: dict[str, Callable[[], str]] = {
        SPARQL_JSON: lambda: json.dumps({"head": {}, "boolean": value}),
        JSON: lambda: json.dumps({"head": {}, "boolean": value}),
        SPARQL_XML: lambda: f"{_XML_HEAD}<head/><boolean>{text}</boolean></sparql>\n",
        CSV: lambda: f"{ASK_COLUMN}\r\n{text}\r\n",
        TSV: lambda: f"?{ASK_COLUMN}\n{text}\n",
    }
    return Rendered(bodies[media_type]().encode(), _content_type(media_type))


# -- CONSTRUCT and DESCRIBE ---------------------------------------------------------------------
_OXIGRAPH_FORMATS = {
    formats.TURTLE: ox.RdfFormat.TURTLE,
    formats.NTRIPLES: ox.RdfFormat.N_TRIPLES,
    formats.NQUADS: ox.RdfFormat.N_QUADS,
}


def graph(triples: Sequence[ox.Triple], media_type: str, *, jsonld_profile: str | None = None) -> Rendered:
    """A CONSTRUCT or DESCRIBE answer."""
    fast = _OXIGRAPH_FORMATS.get(media_type)
    if fast is not None:
        prefixes = COMMON_PREFIXES if fast is ox.RdfFormat.TURTLE else None
        written = ox.serialize(triples, format=fast, prefixes=prefixes)
        return Rendered(written or b"", _content_type(media_type))
    pivot = Graph(bind_namespaces="none")
    for prefix, namespace in COMMON_PREFIXES.items():
        pivot.bind(prefix, namespace)
    for t in triples:
        pivot.add((_rdflib(t.subject), _rdflib(t.predicate), _rdflib(t.object)))
    try:
        body = serialize(pivot, media_type, "", jsonld_profile=jsonld_profile)
    except PodError as error:
        raise NotAcceptable(
            f"these results cannot be written as {media_type} ({error.detail}); "
            f"ask for {formats.TURTLE} or {formats.NTRIPLES}"
        ) from None
    return Rendered(body, _content_type(media_type))


def _rdflib(term: Term) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == _XSD_STRING else URIRef(datatype))


def _content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


__all__ = [
    "ASK_COLUMN",
    "CSV",
    "GRAPH_TYPES",
    "JSON",
    "RESULT_TYPES",
    "SPARQL_JSON",
    "SPARQL_XML",
    "TSV",
    "Rendered",
    "Row",
    "boolean",
    "choose",
    "graph",
    "offers",
    "solutions",
]
