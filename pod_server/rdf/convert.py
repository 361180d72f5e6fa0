"""Parsing and serialising RDF: an rdflib ``Graph`` is the pivot.

CONTRACT (implemented by the rdf helper; the store relies on it):

- ``parse(data, content_type, base, limits) -> Graph``
    * ``content_type`` is any value whose essence is in ``formats.READABLE``;
    * relative IRIs resolve against ``base``;
    * raises ``PayloadTooLarge`` when ``len(data) > limits.max_bytes``;
    * raises ``InvalidRdf`` (400) with the parser's 1-based line number when the body does not
      parse, including bad UTF-8;
    * raises ``BadRequest`` naming the limit when the body has more than ``limits.max_triples``
      triples, a literal longer than ``limits.max_literal_bytes``, or JSON nested deeper than
      ``limits.max_jsonld_depth``;
    * JSON-LD never fetches a remote ``@context``: bundled contexts are served from
      ``pod_server/rdf/contexts/``; any other remote context is refused with ``BadRequest``
      naming the context URL;
    * a graph that parses is always serialisable in every format of ``formats.WRITABLE``
      (e.g. literals with invalid lexical forms or IRIs rdflib cannot write are refused here).
- ``serialize(graph, media_type, base, *, jsonld_profile=None, jsonld_frame=None) -> bytes``
    * ``media_type`` in ``formats.WRITABLE``; UTF-8 bytes;
    * JSON-LD output is compacted with a useful ``@context`` (the graph's prefixes plus the
      common Solid vocabularies); ``jsonld_profile`` may list the JSON-LD 1.1 expanded, compacted
      and flattened profile IRIs (``jsonld_content_type`` names the form written);
    * with ``jsonld_frame`` (``pod_server.rdf.jsonld.parse_frame``), JSON-LD output is that
      frame applied to the graph (JSON-LD 1.1 Framing), for graphs of at most
      ``MAX_FRAMED_TRIPLES`` triples; refusals are 422, a frame pyld rejects is 400.

Decisions (see the functions for details):

- One resource is one graph. Quads in a named graph (N-Quads, or JSON-LD ``@graph`` with an
  ``@id``) are refused with 400 rather than silently dropped.
- N3 is read as plain triples only: formulae (``{ ... }``), variables and rules are refused with 400.
- Everything accepted can be written in every writable format, so ``parse`` refuses (400): IRIs
  that are not absolute or contain characters IRIs may not contain; predicates RDF/XML cannot
  write (no XML QName split, or RDF/XML syntax terms such as ``rdf:li``); text with characters
  XML 1.0 cannot carry; numeric and boolean literals whose lexical form is not valid for their
  datatype (rdflib warns on or mangles them). Other ill-typed literals (dates...) are kept as sent:
  rdflib writes them unchanged, and Python's date parsing is narrower than XML Schema's.
- RDF/XML input is parsed with entity declarations restricted to short internal text without
  references, which defeats billion-laughs and quadratic-blowup bodies; external entities and
  DTDs are never loaded.
- Turtle output carries ``@base`` and writes IRIs relative only where that is unambiguous (the
  document itself, its fragments, and simple names in its directory). N-Triples, N-Quads (the
  same lines, default graph), RDF/XML and JSON-LD carry absolute IRIs.
- JSON-LD output is written directly from the triples (no pyld on the GET path): compact IRIs
  from prefixes whose namespace ends in a JSON-LD gen-delim character, native JSON for canonical
  xsd:integer and xsd:boolean literals. JSON-LD input keeps the simple prefixes of its top-level
  ``@context`` as the graph's prefixes, as Turtle input keeps its ``@prefix`` lines.
- Known rdflib limitation: its Turtle/N3 parser resolves a query-only reference (``<?q=1>``)
  against the base's directory instead of the base document (RFC 3986 §5.2.2).
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Callable
from typing import Any
from xml.sax import SAXParseException, handler
from xml.sax.expatreader import ExpatParser
from xml.sax.xmlreader import InputSource

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.exceptions import ParserError
from rdflib.namespace import NAME_START_CATEGORIES, RDFS, split_uri
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.plugins.parsers.ntriples import NTGraphSink, W3CNTriplesParser, r_tail, r_wspace
from rdflib.plugins.parsers.rdfxml import PROPERTY_ATTRIBUTE_EXCEPTIONS, RDFXMLHandler
from rdflib.plugins.serializers.nt import NTSerializer
from rdflib.plugins.serializers.rdfxml import XMLSerializer
from rdflib.plugins.serializers.turtle import VERB, TurtleSerializer
from rdflib.plugins.stores.memory import Memory
from rdflib.term import Node

from pod_server import vocab
from pod_server.errors import (
    BadRequest,
    InvalidRdf,
    PayloadTooLarge,
    PodError,
    StorageError,
    UnprocessableContent,
    UnsupportedMediaType,
)
from pod_server.rdf import formats
from pod_server.rdf import jsonld as offline_jsonld
from pod_server.rdf.limits import RdfLimits
from pod_server.vocab import ACL, DCTERMS, FOAF, LDP, PIM, RDF, SOLID, STAT, VCARD, XSD

COMMON_PREFIXES: dict[str, str] = {
    "acl": str(ACL),
    "dcterms": str(DCTERMS),
    "foaf": str(FOAF),
    "ldp": str(LDP),
    "pim": str(PIM),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "solid": str(SOLID),
    "stat": str(STAT),
    "vcard": str(VCARD),
    "xsd": str(XSD),
}
"""Prefixes the serialisers use for these namespaces when the graph has no prefix of its own."""

# --------------------------------------------------------------------------------------------
# Term checks: what every writable format can express
# --------------------------------------------------------------------------------------------

# RFC 3987 §2.2: an absolute IRI has a scheme; these characters never appear in an IRI
# (space, controls, <>"{}|\^` and the C1 controls), nor do surrogates and U+FFFE/U+FFFF.
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>\"{}|\\^`\x7f-\x9f\ud800-\udfff\ufffe\uffff]*\Z")
# XML 1.0 §2.2 Char: RDF/XML cannot carry these (and lone surrogates cannot be UTF-8 encoded).
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# RDF 1.1 Concepts §3.3 / BCP 47, as Turtle's LANGTAG production writes it.
_LANGTAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*\Z")
# Turtle §6.5 PN_PREFIX, ASCII part: a prefix name Turtle and JSON-LD both accept.
_PREFIX_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*\Z")
# Blank node labels every syntax accepts (Turtle/N-Triples BLANK_NODE_LABEL and an XML NCName).
_BNODE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")

_NUMERIC_OR_BOOLEAN = frozenset(
    {
        XSD.boolean,
        XSD.decimal,
        XSD.double,
        XSD.float,
        XSD.integer,
        XSD.int,
        XSD.long,
        XSD.short,
        XSD.byte,
        XSD.negativeInteger,
        XSD.nonNegativeInteger,
        XSD.nonPositiveInteger,
        XSD.positiveInteger,
        XSD.unsignedByte,
        XSD.unsignedInt,
        XSD.unsignedLong,
        XSD.unsignedShort,
    }
)
"""Datatypes whose ill-typed literals rdflib mishandles (warns on writing, or reads as None)."""

# RDF/XML Syntax §7.2.5: these cannot be property elements (rdf:li would be read back as rdf:_n).
_NOT_RDFXML_PREDICATES = frozenset(str(term) for term in PROPERTY_ATTRIBUTE_EXCEPTIONS)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


@functools.lru_cache(maxsize=4096)
def _rdfxml_predicate_problem(predicate: str) -> str | None:
    """Why RDF/XML cannot write ``predicate`` as a property element, or ``None``."""
    if predicate in _NOT_RDFXML_PREDICATES:
        return "it is an RDF/XML syntax term"
    try:
        # RDF/XML Syntax §2.1: a property is written as an XML QName, namespace + NCName.
        split_uri(predicate, NAME_START_CATEGORIES)
    except ValueError:
        return "it does not end in a name (an XML NCName) that RDF/XML can write as a QName"
    return None


def _check_iri(iri: str, role: str) -> None:
    if not _IRI.match(iri):
        raise InvalidRdf(
            f"{role} <{_short(iri)}> is not an absolute IRI "
            '(it needs a scheme and no spaces, controls or <>"{}|\\^` characters)'
        )


def _check_term(term: Node, role: str, limits: RdfLimits) -> None:
    if isinstance(term, URIRef):
        _check_iri(term, role)
    elif isinstance(term, BNode):
        if not _BNODE_ID.match(term):
            raise InvalidRdf(f"blank node label _:{_short(term)} cannot be written in every RDF format")
    elif isinstance(term, Literal):
        _check_literal(term, limits)
    else:
        raise BadRequest(f"{role} {_short(term.n3())} is not an IRI, blank node or literal")


def _check_literal(literal: Literal, limits: RdfLimits) -> None:
    text = str(literal)
    bad = _NOT_XML_CHAR.search(text)
    if bad:
        raise InvalidRdf(
            f"literal {_short(text)!r} contains the character U+{ord(bad.group()):04X}, "
            "which RDF/XML and JSON cannot carry"
        )
    # max_literal_bytes counts UTF-8 bytes; a character is 1 to 4 bytes.
    if len(text) > limits.max_literal_bytes or (
        len(text) * 4 > limits.max_literal_bytes and len(text.encode("utf-8")) > limits.max_literal_bytes
    ):
        raise BadRequest(
            f"a literal is longer than the limit of {limits.max_literal_bytes} bytes (max_literal_bytes)"
        )
    if literal.language is not None and not _LANGTAG.match(literal.language):
        raise InvalidRdf(f"{literal.language!r} is not a valid language tag")
    datatype = literal.datatype
    if datatype is not None:
        _check_iri(datatype, "datatype")
        if datatype in _NUMERIC_OR_BOOLEAN and literal.ill_typed:
            raise InvalidRdf(f"literal {_short(text)!r} is not a valid {_pname(datatype)}")


def _pname(iri: str) -> str:
    for prefix, namespace in COMMON_PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return f"<{iri}>"


def check_triple(triple: tuple[Node, Node, Node], limits: RdfLimits) -> None:
    """Raise ``BadRequest``/``InvalidRdf`` unless every writable format can express ``triple``."""
    s, p, o = triple
    if not isinstance(s, URIRef | BNode):
        raise BadRequest(f"subject {_short(s.n3())} must be an IRI or a blank node")
    _check_term(s, "subject", limits)
    if not isinstance(p, URIRef):
        raise BadRequest(f"predicate {_short(p.n3())} must be an IRI")
    _check_iri(p, "predicate")
    problem = _rdfxml_predicate_problem(str(p))
    if problem is not None:
        raise BadRequest(f"predicate <{_short(p)}> cannot be stored: {problem}")
    _check_term(o, "object", limits)


def check_graph(graph: Graph, limits: RdfLimits) -> None:
    """Apply ``parse``'s limits and writability checks to a graph built some other way (e.g. by
    a PATCH): raise ``BadRequest`` naming the first problem."""
    if len(graph) > limits.max_triples:
        raise BadRequest(f"more than the limit of {limits.max_triples} triples (max_triples)")
    for triple in graph:
        check_triple(triple, limits)


class _GuardedStore(Memory):
    """An in-memory store that, while armed, checks every triple as a parser adds it, so a
    hostile body fails at the first bad or excess triple instead of after filling memory."""

    def __init__(self, limits: RdfLimits) -> None:
        super().__init__()
        self._limits: RdfLimits | None = limits
        self._added = 0

    def disarm(self) -> None:
        self._limits = None

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        limits = self._limits
        if limits is not None:
            if quoted:
                raise BadRequest("N3 formulae ({ ... }) are not supported in a resource; send plain triples")
            self._added += 1
            if self._added > limits.max_triples:
                raise BadRequest(f"more than the limit of {limits.max_triples} triples (max_triples)")
            check_triple(triple, limits)
        super().add(triple, context, quoted)


def _new_graph(limits: RdfLimits) -> tuple[Graph, _GuardedStore]:
    store = _GuardedStore(limits)
    # Only the document's own prefixes are bound (binding more costs ~25 µs each); serialisers
    # add COMMON_PREFIXES themselves.
    return Graph(store=store, bind_namespaces="none"), store


# --------------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 text (a leading BOM is ignored); bad UTF-8 is ``InvalidRdf`` with its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InvalidRdf(f"the body is not valid UTF-8 (byte offset {e.start})", line=line) from None
    return text.removeprefix("\ufeff")


def _parse_turtle_family(data: bytes, base: str, graph: Graph, rdflib_format: str) -> None:
    text = _decode(data)
    try:
        graph.parse(data=text, format=rdflib_format, publicID=base)
    except BadSyntax as e:
        why = " ".join(str(getattr(e, "_why", "")).split()) or "bad syntax"
        raise InvalidRdf(f"bad syntax: {why}", line=_bad_syntax_line(e, text)) from None
    except IndexError:
        # rdflib's N3/Turtle parser indexes past the end of a document that stops mid-statement.
        raise InvalidRdf(
            "the document ends in the middle of a statement", line=_line_at(text, len(text))
        ) from None


def _line_at(text: str, position: int) -> int:
    """The 1-based line of ``position``; at the end of the text, the line of the last non-blank."""
    if not text[position:].strip():
        return text[:position].rstrip().count("\n") + 1
    return text.count("\n", 0, position) + 1


def _bad_syntax_line(error: BadSyntax, text: str) -> int:
    """The line of a Turtle/N3 syntax error. ``BadSyntax.lines`` drifts when the parser re-reads
    whitespace, so the line is computed from the error's position in the text when rdflib gives
    it (``_i`` into the document it was parsing, which is ``text``)."""
    position = getattr(error, "_i", None)
    document = getattr(error, "_str", None)
    if isinstance(position, int) and isinstance(document, bytes) and len(document) >= len(text):
        return _line_at(text, min(position, len(text)))
    return int(error.lines) + 1


def _parse_turtle(data: bytes, base: str, graph: Graph, limits: RdfLimits) -> None:
    _parse_turtle_family(data, base, graph, "turtle")


def _parse_n3(data: bytes, base: str, graph: Graph, limits: RdfLimits) -> None:
    _parse_turtle_family(data, base, graph, "n3")


class _NamedGraphError(Exception):
    pass


class _LineParser(W3CNTriplesParser):
    """rdflib's N-Triples parser, counting lines so errors can name one; with ``quads`` it reads
    N-Quads statements and refuses those in a named graph."""

    __slots__ = ("current", "lineno", "quads")

    def __init__(self, graph: Graph, quads: bool) -> None:
        super().__init__(NTGraphSink(graph))
        self.lineno = 0
        self.current = ""
        self.quads = quads

    def readline(self) -> str | None:
        line = super().readline()
        if line is not None:
            self.lineno += 1
            self.current = line
        return line

    def parseline(self, bnode_context: Any = None) -> None:
        if not self.quads:
            super().parseline(bnode_context)
            return
        # N-Quads §2: subject predicate object graphLabel? '.'
        self.eat(r_wspace)
        if (not self.line) or self.line.startswith("#"):
            return
        subject = self.subject(bnode_context)
        self.eat(r_wspace)
        predicate = self.predicate()
        self.eat(r_wspace)
        obj = self.object(bnode_context)
        self.eat(r_wspace)
        graph_label = self.uriref() or self.nodeid(bnode_context)
        self.eat(r_tail)
        if self.line:
            raise ParserError("Trailing garbage")
        if graph_label:
            raise _NamedGraphError(str(graph_label))
        self.sink.triple(subject, predicate, obj)


def _parse_lines(data: bytes, graph: Graph, quads: bool) -> None:
    text = _decode(data)
    parser = _LineParser(graph, quads)
    name = "N-Quads" if quads else "N-Triples"
    try:
        parser.parse(io.StringIO(text))
    except _NamedGraphError as e:
        raise BadRequest(
            f"line {parser.lineno}: the statement is in the named graph {_short(str(e))}; "
            "a Solid resource holds one graph, so send triples in the default graph"
        ) from None
    except ParserError:
        raise InvalidRdf(
            f"not a valid {name} statement: {_short(parser.current.strip(), 80)!r}", line=parser.lineno
        ) from None
    except InvalidRdf as e:  # a term the store refused: name the line it is on
        if e.line is not None:
            raise
        raise InvalidRdf(e.detail, line=parser.lineno) from None


def _parse_ntriples(data: bytes, base: str, graph: Graph, limits: RdfLimits) -> None:
    _parse_lines(data, graph, quads=False)


def _parse_nquads(data: bytes, base: str, graph: Graph, limits: RdfLimits) -> None:
    _parse_lines(data, graph, quads=True)


_MAX_ENTITY_VALUE = 1024
_ENTITY_EXPANSION_BUDGET = 4 * 1024 * 1024


class _SafeExpatReader(ExpatParser):
    """The stdlib SAX reader with entity declarations restricted so entity expansion stays small.

    RDF/XML documents use internal entities to abbreviate namespaces (``<!ENTITY rdf "http://...">``)
    so they are allowed when their value is short text without references (no nesting: this is
    what billion-laughs bodies need), and only while (references in the body) x (value length)
    stays within a budget (this is what quadratic-blowup bodies need). Parameter, external and
    unparsed entities are refused; external DTDs and entities are never loaded."""

    def __init__(self, references: int) -> None:
        super().__init__()
        self._references = max(references, 1)

    def reset(self) -> None:
        super().reset()
        # ExpatParser keeps its pyexpat parser in ``_parser`` (not typed in typeshed); reset()
        # creates a new one for each document, so the handler is installed here.
        self._parser.EntityDeclHandler = self._entity_decl  # type: ignore[attr-defined]

    def _entity_decl(
        self,
        name: str,
        is_parameter_entity: bool,
        value: str | None,
        base: str | None,
        system_id: str | None,
        public_id: str | None,
        notation_name: str | None,
    ) -> None:
        line = self.getLineNumber()
        if is_parameter_entity or value is None:
            raise InvalidRdf(
                f"RDF/XML entity {name!r}: only internal general entities are allowed", line=line
            )
        if "&" in value or "%" in value or len(value) > _MAX_ENTITY_VALUE:
            raise InvalidRdf(
                f"RDF/XML entity {name!r}: an entity value must be text of at most {_MAX_ENTITY_VALUE} "
                "characters without references",
                line=line,
            )
        if len(value) * self._references > _ENTITY_EXPANSION_BUDGET:
            raise InvalidRdf(f"RDF/XML entity {name!r} would expand the body too much", line=line)


_XML_LOCATION = re.compile(r"^\S*?:\d+:\d+: ")


def _parse_rdfxml(data: bytes, base: str, graph: Graph, limits: RdfLimits) -> None:
    reader = _SafeExpatReader(data.count(b"&"))
    reader.setFeature(handler.feature_namespaces, True)
    reader.setFeature(handler.feature_external_ges, False)
    reader.setFeature(handler.feature_external_pes, False)
    # A byte stream, so expat decodes it (UTF-8 unless the XML declaration says otherwise) and
    # reports bad bytes with their line.
    source = InputSource(base)
    source.setPublicId(base)
    source.setByteStream(io.BytesIO(data))
    content = RDFXMLHandler(graph)
    content.setDocumentLocator(source)  # type: ignore[arg-type]  # replaced by the reader's locator
    reader.setContentHandler(content)  # type: ignore[arg-type]  # rdflib's handler is a ContentHandler
    reader.setErrorHandler(handler.ErrorHandler())
    try:
        reader.parse(source)
    except PodError:
        raise
    except SAXParseException as e:
        raise InvalidRdf(f"not well-formed XML: {e.getMessage()}", line=e.getLineNumber()) from None
    except (ParserError, ValueError) as e:
        message = _XML_LOCATION.sub("", " ".join(str(e).split()))
        raise InvalidRdf(f"invalid RDF/XML: {_short(message, 200)}", line=reader.getLineNumber()) from None


def _literal_from_pyld(obj: dict[str, Any]) -> Literal:
    value = obj["value"]
    language = obj.get("language")
    if language is not None:
        if not isinstance(language, str) or not _LANGTAG.match(language):
            raise InvalidRdf(f"{language!r} is not a valid language tag")
        return Literal(value, lang=language)
    datatype = obj.get("datatype")
    if datatype is None or datatype == str(XSD.string):
        return Literal(value)
    _check_iri(datatype, "datatype")
    return Literal(value, datatype=URIRef(datatype))


def _graph_from_dataset(dataset: offline_jsonld.RdfDataset, graph: Graph) -> None:
    for name, triples in dataset.items():
        if name != "@default" and triples:
            raise BadRequest(
                f"the document has a named graph {_short(name)}; a Solid resource holds one graph, "
                "so put the statements in the default graph"
            )
    bnodes: dict[str, BNode] = {}

    def node(term: dict[str, Any]) -> URIRef | BNode:
        value: str = term["value"]
        if term["type"] == "blank node":
            found = bnodes.get(value)
            if found is None:
                found = bnodes[value] = BNode()
            return found
        _check_iri(value, "IRI")
        return URIRef(value)

    for triple in dataset.get("@default", []):
        obj = triple["object"]
        o: URIRef | BNode | Literal = _literal_from_pyld(obj) if obj["type"] == "literal" else node(obj)
        graph.add((node(triple["subject"]), node(triple["predicate"]), o))


_MAX_BOUND_PREFIXES = 32


def _bind_jsonld_prefixes(document: Any, graph: Graph) -> None:
    """Keep the simple prefix definitions of the top-level ``@context`` (``"foaf": "http://..."``)
    as the graph's prefixes, as Turtle's ``@prefix`` lines are kept, so output can use them."""
    context = document.get("@context") if isinstance(document, dict) else None
    contexts = context if isinstance(context, list) else [context]
    bound = 0
    for local in contexts:
        if not isinstance(local, dict):
            continue
        for term, value in local.items():
            if (
                isinstance(term, str)
                and isinstance(value, str)
                and _PREFIX_NAME.match(term)
                and value.endswith(_GEN_DELIMS)
                and _IRI.match(value)
                and bound < _MAX_BOUND_PREFIXES
            ):
                graph.bind(term, value, override=False)
                bound += 1


def _parse_jsonld(data: bytes, base: str, graph: Graph, limits: RdfLimits) -> None:
    document = offline_jsonld.load_json(_decode(data), limits.max_jsonld_depth)
    _graph_from_dataset(offline_jsonld.to_rdf(document, base), graph)
    _bind_jsonld_prefixes(document, graph)


_Parser = Callable[[bytes, str, Graph, RdfLimits], None]

_PARSERS: dict[str, _Parser] = {
    formats.TURTLE: _parse_turtle,
    formats.JSONLD: _parse_jsonld,
    formats.NTRIPLES: _parse_ntriples,
    formats.NQUADS: _parse_nquads,
    formats.RDFXML: _parse_rdfxml,
    formats.N3: _parse_n3,
}


def parse(data: bytes, content_type: str, base: str, limits: RdfLimits) -> Graph:
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(f"the body is larger than the limit of {limits.max_bytes} bytes (max_bytes)")
    media_type = formats.essence(content_type)
    parser = _PARSERS.get(media_type)
    if parser is None:
        raise UnsupportedMediaType(
            f"cannot read {media_type or 'a body without Content-Type'} as RDF; "
            f"send one of {', '.join(formats.READABLE)}"
        )
    graph, store = _new_graph(limits)
    try:
        parser(data, base, graph, limits)
    except PodError:
        raise
    except RecursionError:
        raise BadRequest("the document is nested too deeply to parse") from None
    except Exception as e:  # any other parser failure is a syntax error in the body
        raise InvalidRdf(
            f"cannot parse the body as {media_type}: {_short(' '.join(str(e).split()), 200)}"
        ) from None
    finally:
        store.disarm()
    return graph


# --------------------------------------------------------------------------------------------
# Serialisers
# --------------------------------------------------------------------------------------------

# JSON-LD 1.1 §4.1.5 (Compact IRIs) and §9.15.1: a simple prefix definition is usable for
# compact IRIs when its IRI ends in one of these gen-delim characters.
_GEN_DELIMS = (":", "/", "?", "#", "[", "]", "@")
_CANONICAL_INTEGER = re.compile(r"(?:0|-?[1-9][0-9]{0,14})\Z")


_RDF_TYPE, _XSD_STRING, _XSD_BOOLEAN, _XSD_INTEGER = RDF.type, XSD.string, XSD.boolean, XSD.integer


def _split(iri: str) -> tuple[str, str]:
    """``iri`` cut after its last ``#``, ``/`` or ``:`` into namespace and local name."""
    cut = max(iri.rfind("#"), iri.rfind("/"), iri.rfind(":")) + 1
    return iri[:cut], iri[cut:]


_SIMPLE_NAME = re.compile(r"[A-Za-z0-9_~\-][A-Za-z0-9._~\-]*/?(?:#[^#]*)?\Z")


def relative_iri(iri: str, base: str) -> str | None:
    """``iri`` written relative to ``base`` when that is unambiguous (RFC 3986 §5.2 resolves it
    back to ``iri``), else ``None``: the base itself (``""``), a fragment of it (``#me``), or a
    simple name in the base's directory (``other.ttl``, ``child/``, ``doc#x``)."""
    iri, base = str(iri), str(base)  # rdflib terms never compare equal to plain strings
    if not base or "#" in base:
        return None
    if iri == base:
        return ""
    if iri.startswith(base) and iri[len(base)] == "#":
        return iri[len(base) :]
    path_end = base.find("?")
    without_query = base if path_end < 0 else base[:path_end]
    authority_end = without_query.find("/", without_query.find("://") + 3) if "://" in without_query else -1
    if authority_end < 0:
        return None
    directory = without_query[: without_query.rfind("/") + 1]
    if iri.startswith(directory):
        rest = iri[len(directory) :]
        if _SIMPLE_NAME.match(rest):
            return rest
    return None


_COMMON_BY_NAMESPACE = {namespace: prefix for prefix, namespace in COMMON_PREFIXES.items()}
# Turtle §6.5 PN_LOCAL, the plain part of it that needs no escapes.
_SAFE_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")


class _TurtleSerializer(TurtleSerializer):
    """rdflib's Turtle serializer, writing ``@base`` and relative IRIs only where
    :func:`relative_iri` says that is safe (rdflib's own relativisation strips the base as a
    string prefix, which breaks for e.g. ``<doc2>`` against base ``doc``)."""

    def relativize(self, uri: Any) -> Any:
        return uri

    def get_pname(self, uri: Node, gen_prefix: bool = True) -> str | None:
        """The graph's own prefixes first, then :data:`COMMON_PREFIXES`, else the full IRI.
        Never rdflib's generated ``ns1:`` prefixes: making them binds them in the graph."""
        if not isinstance(uri, URIRef):
            return None
        pname = super().get_pname(uri, False)
        if pname is not None:
            return pname
        namespace, local = _split(uri)
        prefix = _COMMON_BY_NAMESPACE.get(namespace)
        if prefix is not None and _SAFE_LOCAL.match(local):
            return f"{self.addNamespace(prefix, URIRef(namespace))}:{local}"
        return None

    def label(self, node: Node, position: int) -> str:
        if isinstance(node, URIRef) and position != VERB and node != RDF.nil and self.base:
            pname = self.get_pname(node, False)
            if pname:
                return pname
            relative = relative_iri(node, self.base)
            if relative is not None:
                return f"<{relative}>"
            return node.n3()
        return super().label(node, position)


def _serialize_turtle(graph: Graph, base: str, profile: str | None) -> bytes:
    out = io.BytesIO()
    _TurtleSerializer(graph).serialize(out, base=base or "", encoding="utf-8")
    return out.getvalue()


def _serialize_ntriples(graph: Graph, base: str, profile: str | None) -> bytes:
    # N-Quads §3: a statement in the default graph is an N-Triples line, so both share this.
    out = io.BytesIO()
    NTSerializer(graph).serialize(out, encoding="utf-8")
    return out.getvalue()


def _serialize_rdfxml(graph: Graph, base: str, profile: str | None) -> bytes:
    # rdflib's RDF/XML serializer binds a prefix (ns1, ns2...) in the graph for every predicate
    # namespace without one, so it writes a scratch copy that knows the usual prefixes.
    scratch = Graph(bind_namespaces="none")
    for prefix, namespace in COMMON_PREFIXES.items():
        scratch.bind(prefix, namespace)
    for prefix, namespace in graph.namespaces():
        scratch.bind(prefix, namespace, override=False)
    scratch += graph
    out = io.BytesIO()
    # base="" (not None) keeps rdflib from using graph.base to strip prefixes off IRIs.
    XMLSerializer(scratch).serialize(out, base="", encoding="utf-8")
    return out.getvalue()


class _JsonLdWriter:
    """Writes JSON-LD node objects straight from the triples (JSON-LD 1.1 §9: expanded,
    compacted and flattened document forms).

    In compacted form, properties, types and datatypes become compact IRIs (``foaf:name``) with
    the graph's prefixes and :data:`COMMON_PREFIXES`; node identifiers stay absolute IRIs. A
    prefix must not be the scheme of an IRI written in full (``urn:x`` would then read as a
    compact IRI, JSON-LD 1.1 API §5.2.2 IRI Expansion step 6), so such prefixes are dropped."""

    def __init__(self, graph: Graph, compact: bool, excluded: frozenset[str] = frozenset()) -> None:
        self.graph = graph
        self.compact = compact
        self.used: dict[str, str] = {}
        self.prefix_for: dict[str, str] = {}
        self.full_schemes: set[str] = set()
        if compact:
            self._prefixes(excluded)

    def _prefixes(self, excluded: frozenset[str]) -> None:
        taken: set[str] = set(excluded)
        candidates = [(str(prefix), str(ns)) for prefix, ns in self.graph.namespace_manager.namespaces()]
        candidates += COMMON_PREFIXES.items()
        for prefix, ns in candidates:
            # JSON-LD 1.1 §4.1.2: a term is not empty, not a keyword and "_" means a blank node.
            # JSON-LD 1.1 API §4.2.2 step 14.2.3: only simple terms whose IRI ends in a
            # gen-delim character act as prefixes.
            if (
                prefix
                and prefix not in taken
                and prefix[0] != "@"
                and prefix != "_"
                and ns not in self.prefix_for
                and ns.endswith(_GEN_DELIMS)
            ):
                taken.add(prefix)
                self.prefix_for[ns] = prefix

    def full(self, iri: str) -> str:
        """``iri`` written in full, remembering its scheme when it could read as a compact IRI."""
        scheme, _, rest = iri.partition(":")
        if not rest.startswith("//"):
            self.full_schemes.add(scheme)
        return iri

    def vocab_iri(self, iri: str) -> str:
        """A property, type or datatype IRI: a compact IRI when a prefix fits."""
        if self.compact:
            ns, local = _split(iri)
            prefix = self.prefix_for.get(ns)
            if prefix is not None and local:
                self.used[prefix] = ns
                return f"{prefix}:{local}"
        return self.full(iri)

    def node_id(self, term: Node) -> str:
        return f"_:{term}" if isinstance(term, BNode) else self.full(str(term))

    def value(self, term: Node) -> Any:
        if isinstance(term, URIRef | BNode):
            return {"@id": self.node_id(term)}
        assert isinstance(term, Literal)
        lexical = str(term)
        if term.language is not None:
            return {"@value": lexical, "@language": term.language}
        datatype = term.datatype
        if datatype is None or datatype == _XSD_STRING:
            return lexical if self.compact else {"@value": lexical}
        if self.compact:
            # JSON-LD 1.1 API §8.6 (toRdf) reads these JSON values back as the same literal.
            if datatype == _XSD_BOOLEAN and lexical in ("true", "false"):
                return lexical == "true"
            if datatype == _XSD_INTEGER and _CANONICAL_INTEGER.match(lexical):
                return int(lexical)
        return {"@value": lexical, "@type": self.vocab_iri(str(datatype))}

    def collapse(self, values: list[Any]) -> Any:
        """JSON-LD 1.1 API §6.1 (compactArrays): compacted form writes a single value bare."""
        return values[0] if self.compact and len(values) == 1 else values

    def nodes(self) -> list[dict[str, Any]]:
        subjects: dict[Node, dict[str, list[Any]]] = {}
        types: dict[Node, list[str]] = {}
        for s, p, o in self.graph:
            properties = subjects.get(s)
            if properties is None:
                properties = subjects[s] = {}
            if p == _RDF_TYPE and isinstance(o, URIRef | BNode):
                types.setdefault(s, []).append(self.vocab_iri(str(o)) if isinstance(o, URIRef) else f"_:{o}")
                continue
            properties.setdefault(self.vocab_iri(str(p)), []).append(self.value(o))
        out: list[dict[str, Any]] = []
        for s in sorted(subjects, key=lambda t: (isinstance(t, BNode), str(t))):
            node: dict[str, Any] = {"@id": self.node_id(s)}
            if s in types:
                node["@type"] = self.collapse(types[s])
            properties = subjects[s]
            for key in sorted(properties):
                node[key] = self.collapse(properties[key])
            out.append(node)
        return out


def _profiles(profile: str | None) -> set[str]:
    return set(profile.split()) if profile else set()


_COMPACTED, _EXPANDED = str(vocab.JSONLD.compacted), str(vocab.JSONLD.expanded)
_FLATTENED, _FRAMED = str(vocab.JSONLD.flattened), str(vocab.JSONLD.framed)

MAX_FRAMED_TRIPLES = 20_000
"""The largest graph :func:`serialize` frames. Framing runs in pure Python (pyld): a simple frame
over 20,000 triples takes about 2 s; ``jsonld.MAX_FRAMED_VALUES`` bounds what embedding adds."""


def jsonld_profiles(profile: str | None, *, framed: bool = False) -> tuple[str, ...]:
    """The profile IRIs of the JSON-LD document :func:`serialize` writes for a request's
    ``profile`` (JSON-LD 1.1 §9: a space-separated list; unknown IRIs are ignored), or the
    framed profile when a frame is applied. Empty when the request named no known profile."""
    if framed:
        return (_FRAMED,)
    requested = _profiles(profile)
    served: list[str] = []
    if _FLATTENED in requested:
        served.append(_FLATTENED)
    if _COMPACTED in requested:
        served.append(_COMPACTED)
    elif _EXPANDED in requested:
        served.append(_EXPANDED)
    return tuple(served)


def jsonld_content_type(profile: str | None, *, framed: bool = False) -> str:
    """The Content-Type of the JSON-LD :func:`serialize` writes for ``profile`` (or a frame):
    ``application/ld+json``, with a ``profile`` parameter naming the form when the request
    asked for one (IANA registration of application/ld+json: a server SHOULD honour the
    profiles it recognises)."""
    served = jsonld_profiles(profile, framed=framed)
    if not served:
        return formats.JSONLD
    return f'{formats.JSONLD}; profile="{" ".join(served)}"'


def _compacted(graph: Graph, flattened: bool) -> dict[str, Any]:
    writer = _JsonLdWriter(graph, compact=True)
    nodes = writer.nodes()
    clash = writer.full_schemes.intersection(writer.used)
    if clash:  # rare: a prefix named like the scheme of an IRI written in full; write without it
        writer = _JsonLdWriter(graph, compact=True, excluded=frozenset(clash | writer.full_schemes))
        nodes = writer.nodes()
    document: dict[str, Any] = {}
    if writer.used:
        document["@context"] = dict(sorted(writer.used.items()))
    if len(nodes) == 1 and not flattened:
        document.update(nodes[0])
    else:
        document["@graph"] = nodes
    return document


def _serialize_jsonld(graph: Graph, base: str, profile: str | None) -> bytes:
    # JSON-LD 1.1 §9 (IANA considerations): the profile parameter asks for a document form.
    profiles = _profiles(profile)
    compacted = _COMPACTED in profiles
    flattened = _FLATTENED in profiles
    expanded = _EXPANDED in profiles and not compacted
    document: Any
    if expanded or (flattened and not compacted):
        # JSON-LD 1.1 §4.8 and §4.9: this expanded output is also flattened (every node at top level).
        document = _JsonLdWriter(graph, compact=False).nodes()
    else:
        document = _compacted(graph, flattened)
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _serialize_framed(graph: Graph, base: str, frame: offline_jsonld.JsonLdFrame) -> bytes:
    """JSON-LD 1.1 Framing §4.1: the graph, in expanded form, shaped by the client's frame."""
    if len(graph) > MAX_FRAMED_TRIPLES:
        raise UnprocessableContent(
            f"this resource has {len(graph)} triples; frames are applied to resources of at most "
            f"{MAX_FRAMED_TRIPLES}. Fetch it without a frame and frame it in the client"
        )
    nodes = _JsonLdWriter(graph, compact=False).nodes()
    document = offline_jsonld.apply_frame(nodes, frame, base)
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


_Serializer = Callable[[Graph, str, str | None], bytes]

_SERIALIZERS: dict[str, _Serializer] = {
    formats.TURTLE: _serialize_turtle,
    formats.JSONLD: _serialize_jsonld,
    formats.NTRIPLES: _serialize_ntriples,
    formats.NQUADS: _serialize_ntriples,
    formats.RDFXML: _serialize_rdfxml,
}


def serialize(
    graph: Graph,
    media_type: str,
    base: str,
    *,
    jsonld_profile: str | None = None,
    jsonld_frame: offline_jsonld.JsonLdFrame | None = None,
) -> bytes:
    essence = formats.essence(media_type)
    writer = _SERIALIZERS.get(essence)
    if writer is None:
        raise UnsupportedMediaType(
            f"cannot write RDF as {media_type}; use one of {', '.join(formats.WRITABLE)}"
        )
    try:
        if jsonld_frame is not None and essence == formats.JSONLD:
            return _serialize_framed(graph, base, jsonld_frame)
        return writer(graph, base, jsonld_profile)
    except PodError:
        raise
    except Exception as e:  # only a graph that parse() or check_graph() did not check gets here
        raise StorageError(
            f"the resource cannot be written as {media_type}: {_short(' '.join(str(e).split()), 200)}"
        ) from None


__all__ = [
    "COMMON_PREFIXES",
    "MAX_FRAMED_TRIPLES",
    "check_graph",
    "check_triple",
    "jsonld_content_type",
    "jsonld_profiles",
    "parse",
    "relative_iri",
    "serialize",
]
