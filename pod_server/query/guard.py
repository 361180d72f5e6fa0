"""What the SPARQL endpoint refuses to run, decided before the query reaches the index.

:func:`check` reads a query with rdflib's SPARQL 1.1 parser and refuses, each with a message that
says what to change:

- a query longer than :data:`MAX_QUERY_BYTES` (413);
- text the parser cannot read (400, with the parser's line, column and expectation), and prefixed
  names whose prefix is not declared (400, naming the PREFIX line to add);
- SPARQL Update, ``LOAD`` among it (422): the endpoint only reads; writes go to the resources;
- ``FROM`` / ``FROM NAMED`` (422): the dataset is fixed by access control (every document the
  requester may read is a named graph, the default graph is their union), so a query cannot name
  another one; and a remote IRI there would make the server fetch it;
- ``SERVICE`` (422): the server never queries other endpoints for a client;
- the cost cap (422): more than :data:`MAX_TRIPLE_PATTERNS` triple patterns, or a property path
  with ``*`` or ``+`` whose two ends are both variables (or blank nodes), which walks the whole pod.

Two more caps keep the checking itself cheap. rdflib's parser is pure Python and recursive: its
time grows with the number of tokens (about half a millisecond per token inside expressions) and
it runs out of Python stack on deeply nested groups. So the text is first scanned once, linearly,
and refused (422) with more than :data:`MAX_TOKENS` tokens or :data:`MAX_NESTING` levels of
brackets; a query that still exhausts the parser's stack is refused (422) as too complex.

rdflib's parser is not thread-safe, so one query is parsed at a time per process, and verdicts
on recently accepted texts are cached (parsing costs 2-10 ms; apps repeat their queries).

The checker speaks SPARQL 1.1 Query: syntax beyond it (SPARQL 1.2 triple terms, for example) is
refused as a syntax error even where the engine would run it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from typing import Any, Literal

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import BNode, Variable

from pod_server.errors import BadRequest, PayloadTooLarge, UnprocessableContent

QueryForm = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]

MAX_QUERY_BYTES = 64 * 1024
"""The longest query the endpoint reads, in UTF-8 bytes (413 beyond)."""
MAX_TOKENS = 2048
"""Tokens (names, variables, IRIs, literals, punctuation) a query may hold: bounds the parse time."""
MAX_NESTING = 16
"""Levels of ``{ }``, ``( )`` and ``[ ]`` a query may nest: keeps rdflib's recursive parser in its stack."""
MAX_TRIPLE_PATTERNS = 64
"""Triple patterns in a query's WHERE clause, subqueries and EXISTS included (the CONSTRUCT
template is not counted)."""

_FORMS: dict[str, QueryForm] = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}

# SPARQL 1.1 Query §19.8 terminals, coarsely: only what changes nesting or counts as one token.
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
        | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
        | '(?:[^'\\\n\r]|\\.)*'
        | "(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<open>[({\[])
    | (?P<close>[)}\]])
    | (?P<word>[^\s(){}\[\]<>"'\#,;.]+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

UPDATE_REFUSAL = (
    "this endpoint answers queries (SELECT, ASK, CONSTRUCT, DESCRIBE), not SPARQL Update; to change "
    "a resource, send the update to the resource itself with PATCH and "
    "Content-Type: application/sparql-update"
)


def check(sparql: str) -> QueryForm:
    """Refuse ``sparql`` (raising a :mod:`pod_server.errors` error) unless the endpoint may run it;
    return its form.

    Parsing costs milliseconds (rdflib is pure Python), so the verdicts on recently accepted query
    texts are remembered: apps send the same queries again and again. Refusals are not cached.
    """
    return _check(sparql)


@functools.lru_cache(maxsize=128)
def _check(sparql: str) -> QueryForm:
    size = len(sparql.encode("utf-8", "surrogatepass"))
    if size > MAX_QUERY_BYTES:
        raise PayloadTooLarge(
            f"the query is {size} bytes; this endpoint reads at most {MAX_QUERY_BYTES} (64 KiB). "
            "Split it into smaller queries, or move long lists of values out of it"
        )
    if not sparql.strip():
        raise BadRequest("the query is empty; send one such as SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    _check_shape(sparql)
    tree = _parse(sparql)
    prologue, query = tree[0], tree[1]
    _check_prefixes(prologue, query)
    clauses = _field(query, "datasetClause")
    if clauses:
        first = clauses[0]
        named = _field(first, "named")
        raise dataset_refusal("FROM" if named is None else "FROM NAMED", named or _field(first, "default"))
    where = _field(query, "where")
    if where is not None:
        _check_patterns(where)
    return _FORMS[query.name]


def _check_shape(sparql: str) -> None:
    """One linear pass: the token count and the deepest nesting of brackets."""
    tokens = depth = deepest = 0
    for match in _TOKEN.finditer(sparql):
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        tokens += 1
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close":
            depth = max(0, depth - 1)
    if tokens > MAX_TOKENS:
        raise UnprocessableContent(
            f"the query has {tokens} tokens; this endpoint reads at most {MAX_TOKENS}. Split it into "
            "smaller queries (long VALUES lists and long chains of || in FILTER are the usual cause)"
        )
    if deepest > MAX_NESTING:
        raise UnprocessableContent(
            f"the query nests brackets {deepest} levels deep; at most {MAX_NESTING} are allowed. "
            "Flatten the groups, or split the query"
        )


_PARSING = threading.Lock()
"""rdflib's grammar is shared, and pyparsing is not safe to run from two threads at once: its parse
actions learn their arity on first use, and concurrent first uses fail with a TypeError. Parsing
holds the GIL anyway, so one at a time costs little."""


def _parse(sparql: str) -> Any:
    """The rdflib parse tree ``[prologue, query]``; errors translated to the :mod:`pod_server.errors` tree."""
    try:
        with _PARSING:
            return parseQuery(sparql)
    except RecursionError:
        raise _too_complex() from None
    except ParseBaseException as error:
        syntax_error = error
    # Not a query: an update sent here gets a refusal that says where updates go.
    try:
        with _PARSING:
            update = parseUpdate(sparql)
    except (ParseBaseException, RecursionError):
        raise BadRequest(_syntax_message(syntax_error)) from None
    operations = {getattr(op, "name", "") for op in _field(update, "request") or ()}
    if "Load" in operations:
        raise UnprocessableContent(
            "LOAD asks the server to fetch a URL, and this endpoint neither fetches URLs nor changes "
            "data. Fetch the document yourself and query it on your side, or copy it into your pod "
            "with PUT"
        )
    if not operations:  # only a prologue: an empty request
        raise BadRequest(_syntax_message(syntax_error))
    raise UnprocessableContent(UPDATE_REFUSAL)


def _check_prefixes(prologue: Any, query: Any) -> None:
    """SPARQL 1.1 Query §4.1.1.1: a prefixed name needs its PREFIX declaration (rdflib parses
    without one; the engine would refuse it with a less helpful message)."""
    declared = {_field(d, "prefix") or "" for d in prologue if getattr(d, "name", "") == "PrefixDecl"}
    for node in _nodes(query):
        if node.name == "pname" and (_field(node, "prefix") or "") not in declared:
            prefix = _field(node, "prefix") or ""
            raise BadRequest(
                f"the prefix {prefix}: is not declared; add PREFIX {prefix}: <its namespace IRI> "
                "before the query"
            )


def _syntax_message(error: ParseBaseException) -> str:
    found = f", found {error.found or 'the end of the query'}"
    return f"the query is not valid SPARQL 1.1 (line {error.lineno}, column {error.col}): {error.msg}{found}"


def _too_complex() -> UnprocessableContent:
    return UnprocessableContent(
        "the query is too large or nested too deeply to check: use at most "
        f"{MAX_TRIPLE_PATTERNS} triple patterns and fewer nested groups, or split it into smaller queries"
    )


def dataset_refusal(keyword: str, iri: object) -> UnprocessableContent:
    """``FROM <iri>`` in a query, or the protocol's ``default-graph-uri`` / ``named-graph-uri``."""
    return UnprocessableContent(
        f"{keyword} <{iri}> names a dataset, but this endpoint's dataset is fixed by access control: "
        "every document you may read in this pod is a named graph, and the default graph is their "
        "union. Remove FROM, FROM NAMED, default-graph-uri and named-graph-uri; to query one "
        "document, use GRAPH <its URL> { ... }"
    )


def _check_patterns(where: Any) -> None:
    patterns = 0
    for node in _nodes(where):
        if node.name == "ServiceGraphPattern":
            raise UnprocessableContent(
                f"SERVICE <{_field(node, 'term')}> asks this server to query another endpoint, which it "
                "never does. Remove the SERVICE clause and query the other endpoint yourself "
                "(a client can combine the answers)"
            )
        if node.name == "TriplesBlock":
            for triples in _field(node, "triples") or ():
                terms = list(triples)
                for i in range(0, len(terms) - 2, 3):
                    patterns += 1
                    _check_path(terms[i], terms[i + 1], terms[i + 2])
    if patterns > MAX_TRIPLE_PATTERNS:
        raise UnprocessableContent(
            f"the query has {patterns} triple patterns; at most {MAX_TRIPLE_PATTERNS} are allowed. "
            "Split it into smaller queries"
        )


def _nodes(tree: Any) -> Iterator[CompValue]:
    """Every parse-tree node (``CompValue``) under ``tree``, depth first."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list | tuple | ParseResults):
            stack.extend(item)


def _check_path(subject: Any, path: Any, obj: Any) -> None:
    """Cost cap: ``?s ex:p* ?o`` (both ends open) can visit every node of the pod for every node."""
    if not (_is_open(subject) and _is_open(obj)) or not isinstance(path, CompValue):
        return
    modifier = next((m for n in _nodes(path) if (m := _field(n, "mod")) in ("*", "+")), None)
    if modifier is not None:
        raise UnprocessableContent(
            f"a property path with {modifier} links {_show(subject)} to {_show(obj)}, two unbound "
            "ends: it can walk the whole pod from every node. Bind the subject or the object to an "
            "IRI, or use a fixed-length path such as ex:p/ex:p"
        )


def _field(node: CompValue, name: str) -> Any:
    """A parse-tree node's field, ``None`` when absent (``CompValue.get`` returns the name itself)."""
    return dict.get(node, name)


def _is_open(term: Any) -> bool:
    return isinstance(term, Variable | BNode)


def _show(term: Any) -> str:
    return f"?{term}" if isinstance(term, Variable) else "a blank node"


__all__ = [
    "MAX_NESTING",
    "MAX_QUERY_BYTES",
    "MAX_TOKENS",
    "MAX_TRIPLE_PATTERNS",
    "UPDATE_REFUSAL",
    "QueryForm",
    "check",
    "dataset_refusal",
]
