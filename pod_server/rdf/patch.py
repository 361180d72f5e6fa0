"""PATCH bodies applied to a graph: N3 Patch (Solid Protocol §5.3.1) and SPARQL Update.

CONTRACT (implemented by the patch helper; the store relies on it):

- ``parse_patch(data, content_type, base) -> Patch``
    * ``text/n3``: an N3 Patch document with exactly one patch resource, typed
      ``solid:InsertDeletePatch``, with optional ``solid:where``, ``solid:inserts``, ``solid:deletes``
      formulae; syntax errors (and bad UTF-8) raise ``InvalidRdf`` (400) and a document that parses
      but is not a valid patch raises ``UnprocessableContent`` (422). Solid Protocol §5.3.1 makes
      these 422: no patch resource, several, one typed only ``solid:Patch`` (the spec requires
      ``solid:InsertDeletePatch``), a formula predicate used twice or with a non-formula object,
      nested formulae, variables in inserts or deletes that do not occur in where, blank nodes in
      inserts or deletes. We also refuse, with 422: blank nodes in where (the spec defines the
      matching over variables only), literal subjects or non-IRI predicates, and predicates other
      than ``rdf:type`` and the three formula predicates on the patch resource (so a typo such as
      ``solid:insert`` is not silently a no-op). Triples not about the patch resource are ignored.
    * ``application/sparql-update``: INSERT DATA, DELETE DATA, DELETE/INSERT ... WHERE, DELETE WHERE,
      several operations separated by ``;``; a body of only whitespace, comments or a prologue is a
      valid no-op; syntax errors (and bad UTF-8, and blank nodes in DELETE DATA, DELETE WHERE or a
      DELETE template, which the SPARQL 1.1 grammar forbids) raise ``BadRequest`` with the parser's
      message; operations that would touch other graphs or load remote data (LOAD, CLEAR, DROP,
      CREATE, COPY, MOVE, ADD, ``GRAPH``/``WITH``/``USING`` clauses, SERVICE) raise
      ``UnprocessableContent``. They are found in the translated algebra, not in the text.
    * any other type raises ``UnsupportedMediaType``.
- ``Patch.apply(graph)`` changes ``graph`` in place:
    * N3 Patch: ``where`` must match exactly one binding, else ``Conflict`` (409); every triple to
      delete must be present, else ``Conflict``; then deletes then inserts are applied. On any
      error ``graph`` is left unchanged.
    * SPARQL Update: applied as rdflib does, never touching the network (everything that could is
      refused by ``parse_patch``). An operation that fails while being evaluated raises
      ``UnprocessableContent``; earlier operations of the same request may have been applied, so
      the caller must discard ``graph`` on error.
- ``Patch.deletes`` is True when the patch can remove triples (needs acl:Write), else it only
  appends (acl:Append is enough). ``Patch.reads`` is True when the patch needs acl:Read too:
    * N3 Patch: a non-empty where, or non-empty deletes (Solid Protocol §5.3.1: "When ?deletions
      is non-empty, servers MUST treat the request as a Read and Write operation");
    * SPARQL Update: a WHERE clause that is not empty (``DELETE WHERE`` included). DELETE DATA
      alone does not read: absent triples are ignored silently, so it discloses nothing.

Bounds: the body size is capped by the caller. N3 Patch ``where`` evaluation stops after
``MAX_WHERE_SOLUTIONS`` (2) bindings, since only 0, 1 or more matters, and gives up with 422
after examining ``MAX_MATCH_STEPS`` candidate triples (a where formula that expensive is almost
certainly a mistake). SPARQL WHERE evaluation is rdflib's and is not bounded beyond the body size.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from pyparsing import ParseBaseException, ParseResults
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.graph import QuotedGraph
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Update
from rdflib.plugins.sparql.update import evalUpdate
from rdflib.term import Node

from pod_server.errors import (
    BadRequest,
    Conflict,
    InvalidRdf,
    PodError,
    UnprocessableContent,
    UnsupportedMediaType,
)
from pod_server.rdf.formats import N3, SPARQL_UPDATE, essence
from pod_server.vocab import RDF, SOLID

__all__ = [
    "MAX_MATCH_STEPS",
    "MAX_WHERE_SOLUTIONS",
    "N3Patch",
    "Patch",
    "SparqlUpdate",
    "parse_patch",
]

MAX_WHERE_SOLUTIONS = 2
"""N3 Patch where evaluation stops at this many bindings: only 0, 1 or more matters."""

MAX_MATCH_STEPS = 200_000
"""Candidate triples N3 Patch where evaluation may examine before giving up with 422."""

_DETAIL_CHARS = 200

Pattern = tuple[Node, Node, Node]
"""A triple whose terms may be :class:`rdflib.Variable`."""

Binding = dict[Variable, Node]


class Patch(Protocol):
    """A parsed PATCH body, ready to be applied to the target resource's graph."""

    @property
    def media_type(self) -> str: ...

    @property
    def deletes(self) -> bool:
        """True when applying the patch can remove triples (acl:Write), else it only appends."""
        ...

    @property
    def reads(self) -> bool:
        """True when the outcome depends on the current content (acl:Read needed as well)."""
        ...

    def apply(self, graph: Graph) -> None:
        """Change ``graph`` in place; raise a :class:`~pod_server.errors.PodError` on failure."""
        ...


def parse_patch(data: bytes, content_type: str, base: str) -> Patch:
    """Parse a PATCH body; relative IRIs resolve against ``base`` (the target resource's URL)."""
    parser = _PARSERS.get(essence(content_type))
    if parser is None:
        raise UnsupportedMediaType(
            f"cannot PATCH with {essence(content_type) or 'no Content-Type'}: "
            f"send Content-Type: {N3} (N3 Patch) or {SPARQL_UPDATE}"
        )
    return parser(data, base)


# --- N3 Patch (Solid Protocol §5.3.1) ---------------------------------------------------------

_FORMULA_PREDICATES = {
    SOLID.where: "solid:where",
    SOLID.inserts: "solid:inserts",
    SOLID.deletes: "solid:deletes",
}
_PATCH_TYPES = (SOLID.InsertDeletePatch, SOLID.Patch)


@dataclass(frozen=True, slots=True)
class N3Patch:
    """An N3 Patch: ``conditions`` (solid:where), ``deletions`` and ``insertions`` as patterns."""

    conditions: tuple[Pattern, ...] = ()
    deletions: tuple[Pattern, ...] = ()
    insertions: tuple[Pattern, ...] = ()
    media_type: str = N3

    @property
    def deletes(self) -> bool:
        return bool(self.deletions)

    @property
    def reads(self) -> bool:
        # Solid Protocol §5.3.1: non-empty ?conditions is a Read; non-empty ?deletions is a Read
        # and a Write (a 409 for an absent triple tells whether it is there).
        return bool(self.conditions) or bool(self.deletions)

    def apply(self, graph: Graph) -> None:
        # Solid Protocol §5.3.1, processing steps 2-3: find all mappings; none or several is a 409.
        solutions = _Matcher(graph).solutions(self.conditions)
        if not solutions:
            raise Conflict("the solid:where formula matches nothing in the document")
        if len(solutions) > 1:
            raise Conflict(
                "the solid:where formula matches more than once in the document; "
                "make it specific enough to match exactly one way"
            )
        binding = solutions[0]
        # Step 4: propagate the mapping to ?deletions and ?insertions.
        deletions = [_substitute(pattern, binding) for pattern in self.deletions]
        insertions = [_substitute(pattern, binding) for pattern in self.insertions]
        # Step 5: every triple to delete must be present, else 409.
        for triple in deletions:
            if triple not in graph:
                raise Conflict(f"cannot delete {_show(triple)}: the document does not contain it")
        for triple in insertions:
            if isinstance(triple[0], Literal):
                raise Conflict(f"cannot insert {_show(triple)}: a literal cannot be a subject")
        # Steps 6-7: deletions, then insertions (no blank nodes: refused when parsing).
        for triple in deletions:
            graph.remove(triple)
        for triple in insertions:
            graph.add(triple)


class _Matcher:
    """Backtracking evaluation of a basic graph pattern over ``graph``, bounded in solutions and steps.

    At each depth the pattern with the most bound positions is tried next, so joins go through the
    graph's indexes. Each solution binds every variable of the patterns, and two different paths
    through the search always bind some variable differently, so solutions are distinct.
    """

    def __init__(self, graph: Graph) -> None:
        self._graph = graph
        self._steps = 0

    def solutions(self, patterns: tuple[Pattern, ...]) -> list[Binding]:
        found: list[Binding] = []
        stack: list[tuple[tuple[Pattern, ...], Iterator[Binding]]] = []

        def descend(remaining: tuple[Pattern, ...], binding: Binding) -> None:
            if not remaining:
                found.append(binding)
                return
            index = max(range(len(remaining)), key=lambda i: _bound_positions(remaining[i], binding))
            rest = remaining[:index] + remaining[index + 1 :]
            stack.append((rest, self._extensions(remaining[index], binding)))

        descend(patterns, {})
        while stack and len(found) < MAX_WHERE_SOLUTIONS:
            rest, extensions = stack[-1]
            binding = next(extensions, None)
            if binding is None:
                stack.pop()
            else:
                descend(rest, binding)
        return found

    def _extensions(self, pattern: Pattern, binding: Binding) -> Iterator[Binding]:
        s, p, o = (binding.get(term) if isinstance(term, Variable) else term for term in pattern)
        for triple in self._graph.triples((s, p, o)):
            self._steps += 1
            if self._steps > MAX_MATCH_STEPS:
                raise UnprocessableContent(
                    f"the solid:where formula is too expensive to evaluate (more than {MAX_MATCH_STEPS} "
                    "candidate triples); make it more specific"
                )
            extended = dict(binding)
            for term, value in zip(pattern, triple, strict=True):
                # A variable may occur twice in one pattern (?x ex:p ?x): the first binds it.
                if isinstance(term, Variable) and extended.setdefault(term, value) != value:
                    break
            else:
                yield extended


def _bound_positions(pattern: Pattern, binding: Binding) -> int:
    return sum(1 for term in pattern if not isinstance(term, Variable) or term in binding)


def _substitute(pattern: Pattern, binding: Binding) -> Pattern:
    s, p, o = (binding[term] if isinstance(term, Variable) else term for term in pattern)
    return (s, p, o)


def _parse_n3_patch(data: bytes, base: str) -> N3Patch:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidRdf("the N3 Patch is not valid UTF-8", line=line) from error
    document = Graph(bind_namespaces="none")
    try:
        with warnings.catch_warnings():
            # rdflib 7's own N3 parser uses its deprecated Dataset.default_context; not ours to fix.
            warnings.filterwarnings(
                "ignore", message=r"Dataset\.default_context is deprecated", category=DeprecationWarning
            )
            document.parse(data=text, format="n3", publicID=base)
    except BadSyntax as error:
        why = getattr(error, "_why", "") or _first_line(error)
        raise InvalidRdf(f"N3 syntax error: {why}", line=error.lines + 1) from error
    except IndexError as error:  # rdflib's N3 tokenizer runs off the end of a truncated document.
        line = text.count("\n") + 1
        raise InvalidRdf(
            "N3 syntax error: the document ends in the middle of a statement", line=line
        ) from error
    except Exception as error:  # rdflib raises many types for odd input; all mean "does not parse".
        raise InvalidRdf(f"the N3 Patch does not parse: {_first_line(error)}") from error
    return _read_patch(document)


def _read_patch(document: Graph) -> N3Patch:
    # Solid Protocol §5.3.1: a patch resource is the shared subject of the triple patterns
    # ?patch rdf:type solid:Patch / solid:InsertDeletePatch, ?patch solid:deletes|inserts|where ?f;
    # the document MUST contain exactly one.
    candidates = {
        s for s, p, o in document if p in _FORMULA_PREDICATES or (p == RDF.type and o in _PATCH_TYPES)
    }
    if not candidates:
        raise UnprocessableContent(
            "the N3 Patch has no patch resource: add `_:patch a solid:InsertDeletePatch` with "
            "solid:where, solid:inserts and/or solid:deletes formulae"
        )
    if len(candidates) > 1:
        raise UnprocessableContent(
            f"the N3 Patch has {len(candidates)} patch resources; send exactly one per request"
        )
    (patch,) = candidates
    # "A patch resource MUST be identified by a URI or blank node".
    if not isinstance(patch, URIRef | BNode):
        raise UnprocessableContent(f"the patch resource {patch.n3()} must be an IRI or a blank node")
    # "A patch resource MUST contain a triple ?patch rdf:type solid:InsertDeletePatch".
    if (patch, RDF.type, SOLID.InsertDeletePatch) not in document:
        raise UnprocessableContent("the patch resource must have the type solid:InsertDeletePatch")
    for predicate in document.predicates(patch, None, unique=True):
        if predicate != RDF.type and predicate not in _FORMULA_PREDICATES:
            raise UnprocessableContent(
                f"unexpected predicate {predicate.n3()} on the patch resource: use only rdf:type, "
                "solid:where, solid:inserts and solid:deletes"
            )
    conditions = _formula(document, patch, SOLID.where)
    deletions = _formula(document, patch, SOLID.deletes)
    insertions = _formula(document, patch, SOLID.inserts)
    # "The ?insertions and ?deletions formulae MUST NOT contain variables that do not occur in
    # the ?conditions formula."
    known = {term for pattern in conditions for term in pattern if isinstance(term, Variable)}
    for predicate, patterns in ((SOLID.inserts, insertions), (SOLID.deletes, deletions)):
        for pattern in patterns:
            for term in pattern:
                if isinstance(term, Variable) and term not in known:
                    raise UnprocessableContent(
                        f"variable {term.n3()} in {_FORMULA_PREDICATES[predicate]} "
                        "does not occur in solid:where"
                    )
    return N3Patch(conditions=conditions, deletions=deletions, insertions=insertions)


def _formula(document: Graph, patch: Node, predicate: URIRef) -> tuple[Pattern, ...]:
    name = _FORMULA_PREDICATES[predicate]
    objects = list(document.objects(patch, predicate))
    # "A patch resource MUST contain at most one triple of the form ?patch solid:X ?f";
    # when absent, the formula is the empty formula {}.
    if not objects:
        return ()
    if len(objects) > 1:
        raise UnprocessableContent(f"the patch resource has {len(objects)} {name} formulae; use at most one")
    formula = objects[0]
    # "?deletions, ?insertions, and ?conditions MUST be non-nested cited formulae consisting only
    # of triples and/or triple patterns".
    if not isinstance(formula, QuotedGraph):
        raise UnprocessableContent(f"the object of {name} must be a formula {{ ... }}, not {formula.n3()}")
    patterns: list[Pattern] = []
    for s, p, o in formula:
        pattern: Pattern = (s, p, o)
        if any(isinstance(term, QuotedGraph) for term in pattern):
            raise UnprocessableContent(f"the {name} formula must not contain nested formulae")
        # "The ?insertions and ?deletions formulae MUST NOT contain blank nodes." We refuse them in
        # ?conditions too: the spec defines matching over variables only. N3 lists and [ ... ]
        # are blank nodes, so they are refused here as well.
        if any(isinstance(term, BNode) for term in pattern):
            raise UnprocessableContent(
                f"the {name} formula must not contain blank nodes (nor [ ] or lists); "
                "use a variable in solid:where or an IRI instead"
            )
        if isinstance(s, Literal) or not isinstance(p, URIRef | Variable):
            raise UnprocessableContent(f"{_show(pattern)} in {name} is not a triple pattern")
        patterns.append(pattern)
    # A formula is a set: sort it so that evaluation (and so the MAX_MATCH_STEPS bound) does not
    # depend on hash order; the same patch against the same document always gives the same answer.
    return tuple(sorted(patterns, key=lambda pattern: tuple(term.n3() for term in pattern)))


# --- SPARQL Update (SPARQL 1.1 Update) --------------------------------------------------------

_FORBIDDEN_OPERATIONS = {
    "Load": "LOAD",
    "Clear": "CLEAR",
    "Drop": "DROP",
    "Create": "CREATE",
    "Add": "ADD",
    "Move": "MOVE",
    "Copy": "COPY",
}
"""Graph management operations: they touch other graphs or the network; a PATCH has one target."""

_FORBIDDEN_PATTERNS = {"ServiceGraphPattern": "SERVICE", "Graph": "GRAPH", "GraphGraphPattern": "GRAPH"}
"""Algebra (``Graph``) and untranslated parse-tree (inside EXISTS) names of forbidden patterns."""


@dataclass(frozen=True, slots=True)
class SparqlUpdate:
    """A SPARQL Update request translated by rdflib; ``update`` is None for an empty request."""

    update: Update | None
    deletes: bool
    reads: bool
    media_type: str = SPARQL_UPDATE
    variable_subjects_or_predicates: bool = False
    """An INSERT template has a variable as subject or predicate, which may bind to a literal."""

    def apply(self, graph: Graph) -> None:
        if self.update is None:
            return  # rdflib cannot evaluate an empty request; it changes nothing.
        try:
            evalUpdate(graph, self.update)
        except PodError:
            raise
        except Exception as error:
            raise UnprocessableContent(
                f"the SPARQL Update could not be applied: {_first_line(error)}"
            ) from error
        if self.variable_subjects_or_predicates:
            # SPARQL 1.1 Update §3.1.3 (templates as in Query §16.2 CONSTRUCT): a triple with a
            # literal subject or a non-IRI predicate is not inserted. rdflib inserts it; drop it.
            invalid = [t for t in graph if isinstance(t[0], Literal) or not isinstance(t[1], URIRef)]
            for triple in invalid:
                graph.remove(triple)


def _parse_sparql_update(data: bytes, base: str) -> SparqlUpdate:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BadRequest(f"the SPARQL Update is not valid UTF-8 (line {line})") from error
    try:
        parsed = parseUpdate(text)
    except ParseBaseException as error:
        raise BadRequest(
            f"SPARQL Update syntax error at line {error.lineno}, column {error.col}: {_first_line(error.msg)}"
        ) from error
    except Exception as error:  # e.g. RecursionError on absurd nesting
        raise BadRequest(f"the SPARQL Update does not parse: {_first_line(error)}") from error
    if not parsed.request:
        # Only whitespace, comments or a prologue: a valid request with no operations.
        return SparqlUpdate(update=None, deletes=False, reads=False)
    try:
        update = translateUpdate(parsed, base=base)
    except Exception as error:  # e.g. "Unknown namespace prefix : ex"
        raise BadRequest(f"the SPARQL Update is invalid: {_first_line(error)}") from error
    deletes = reads = variable_subjects_or_predicates = False
    for operation in update.algebra:
        name = operation.name
        if name in _FORBIDDEN_OPERATIONS:
            raise UnprocessableContent(
                f"{_FORBIDDEN_OPERATIONS[name]} is not allowed in a PATCH: a PATCH changes only its "
                "target document; use INSERT DATA, DELETE DATA or DELETE/INSERT ... WHERE"
            )
        if name in ("InsertData", "DeleteData", "DeleteWhere"):
            _refuse_quads(operation)
            if name != "DeleteWhere":
                _refuse_variables(operation.triples, name)
            if name != "InsertData":
                _refuse_blank_nodes(operation.triples, name)
                deletes = deletes or bool(operation.triples)
            if name == "DeleteWhere":
                reads = reads or bool(operation.triples)
        elif name == "Modify":
            if operation.withClause is not None:
                raise _graph_clause("WITH")
            if operation.using:
                raise _graph_clause("USING")
            for template in (operation.delete, operation.insert):
                if template is not None:
                    _refuse_quads(template)
            if operation.delete is not None:
                _refuse_blank_nodes(operation.delete.triples, "DELETE")
                deletes = deletes or bool(operation.delete.triples)
            if operation.insert is not None:
                variable_subjects_or_predicates = variable_subjects_or_predicates or any(
                    isinstance(s, Variable) or isinstance(p, Variable)
                    for s, p, _ in operation.insert.triples or ()
                )
            _refuse_patterns(operation.where)
            reads = reads or not _is_empty_pattern(operation.where)
        else:
            raise UnprocessableContent(f"the SPARQL Update operation {name} is not supported")
    return SparqlUpdate(
        update, deletes, reads, variable_subjects_or_predicates=variable_subjects_or_predicates
    )


def _graph_clause(keyword: str) -> UnprocessableContent:
    return UnprocessableContent(
        f"{keyword} is not allowed in a PATCH: it names another graph; a PATCH changes only its "
        "target document, which is the default graph"
    )


def _refuse_quads(operation: CompValue) -> None:
    """``INSERT DATA { GRAPH <g> { ... } }`` and GRAPH blocks in templates land in ``quads``."""
    if operation.quads:
        raise _graph_clause("GRAPH")


def _refuse_blank_nodes(triples: list[Pattern] | None, where: str) -> None:
    # SPARQL 1.1 Query §19.8 (grammar notes): blank nodes are not allowed in DELETE DATA,
    # DELETE WHERE or a DELETE template; rdflib accepts them, so we refuse them here.
    for triple in triples or ():
        if any(isinstance(term, BNode) for term in triple):
            raise BadRequest(f"blank nodes are not allowed in {_OPERATION_NAMES.get(where, where)}")


def _refuse_variables(triples: list[Pattern] | None, where: str) -> None:
    # SPARQL 1.1 Update §3.1.1, §3.1.2: INSERT DATA and DELETE DATA take ground triples only
    # ("Variables in QuadDatas are disallowed"); rdflib accepts them, so we refuse them here.
    for triple in triples or ():
        if any(isinstance(term, Variable) for term in triple):
            raise BadRequest(f"variables are not allowed in {_OPERATION_NAMES.get(where, where)}")


_OPERATION_NAMES = {
    "InsertData": "INSERT DATA",
    "DeleteData": "DELETE DATA",
    "DeleteWhere": "DELETE WHERE",
    "DELETE": "a DELETE template",
}


def _refuse_patterns(where: object) -> None:
    """Walk the WHERE algebra (iteratively: it may be deep) and refuse SERVICE and GRAPH."""
    stack: list[object] = [where]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            keyword = _FORBIDDEN_PATTERNS.get(node.name)
            if keyword == "SERVICE":
                raise UnprocessableContent(
                    "SERVICE is not allowed in a PATCH: the server does not query other endpoints"
                )
            if keyword is not None:
                raise _graph_clause(keyword)
            stack.extend(node.values())
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple | ParseResults):
            stack.extend(node)


def _is_empty_pattern(where: CompValue | None) -> bool:
    """``WHERE {}`` translates to an empty basic graph pattern."""
    return where is None or (where.name == "BGP" and not where.triples)


# --- shared -----------------------------------------------------------------------------------

_PARSERS: dict[str, Callable[[bytes, str], Patch]] = {
    N3: _parse_n3_patch,
    SPARQL_UPDATE: _parse_sparql_update,
}


def _show(triple: Pattern) -> str:
    text = " ".join(term.n3() for term in triple)
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0].strip() if lines else type(error).__name__
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."
