"""Content digests of RDF documents: what a reviewer saw, in a form that survives re-serialisation.

Contract §5 (communities): ``"sha256-" + base64(sha256(canonical N-Quads))``, where the canonical
N-Quads are RDFC-1.0 (W3C RDF Dataset Canonicalization, identical output to URDNA2015) of the
whole document, read as RDF with its URL as the base. The same graph written with other prefixes,
in another triple order or with other blank-node labels has the same digest; any change of a term
(a literal, an IRI, a triple more or less) changes it.

Invariants:

- the document is parsed with the server's own parser (``pod_server.rdf.convert.parse``), so the
  digest is of the triples the server would store; rdflib's literal normalisation applies (an
  ``xsd:integer`` written ``01`` is ``1``). pod_client computes it the same way (rdflib + pyld).
- input is bounded before canonicalisation: at most :data:`MAX_TRIPLES` triples,
  :data:`MAX_BLANK_NODES` blank nodes and :data:`MAX_BYTES` bytes. RDFC-1.0 §4.4 warns that
  crafted blank-node graphs ("poison graphs") make canonicalisation super-polynomial, so the
  N-degree hashing also runs under a work budget (:data:`WORK_BUDGET`). Anything over a bound is
  :class:`~pod_server.errors.UnprocessableContent` (422), never a hang and never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from typing import Any

from pyld.canon import URDNA2015
from pyld.nquads import parse_nquads
from rdflib import BNode, Graph

from pod_server.errors import PodError, UnprocessableContent
from pod_server.rdf import formats
from pod_server.rdf.convert import parse, serialize
from pod_server.rdf.limits import RdfLimits

MAX_BYTES = 2 * 1024 * 1024
MAX_TRIPLES = 10_000
MAX_BLANK_NODES = 1_000
WORK_BUDGET = 10_000
"""Units of N-degree hashing allowed: one per Hash N-Degree Quads call plus one per permutation
of related blank nodes it will try. Real documents (a contribution with a measure or two) use 0."""
MAX_DEPTH = 64
"""How deep Hash N-Degree Quads may recurse (a long chain of look-alike blank nodes recurses once
per link; Python's own recursion limit must never be what stops it)."""

DIGEST_PATTERN = re.compile(r"sha256-[A-Za-z0-9+/]{43}=\Z")
"""What a digest looks like: ``sha256-`` and the 32-byte hash in padded standard base64."""

_LIMITS = RdfLimits(max_bytes=MAX_BYTES, max_triples=MAX_TRIPLES)


class _TooHard(Exception):
    """Raised inside canonicalisation when the work budget is spent."""


# pyld ships no type information, so its class is Any to mypy; subclassing it is the only way to
# count the work RDFC-1.0 does (pyld has no budget of its own).
class _BudgetedCanonicalizer(URDNA2015):  # type: ignore[misc]
    """URDNA2015 (= RDFC-1.0) that stops once :data:`WORK_BUDGET` units of N-degree work are spent."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget
        self.depth = 0

    def _spend(self, units: int) -> None:
        self.budget -= units
        if self.budget < 0:
            raise _TooHard

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self._spend(1)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooHard
            return super().hash_n_degree_quads(id_, issuer)
        finally:
            self.depth -= 1

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        related: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        # RDFC-1.0 §4.8.3 step 5.4 tries every permutation of each list: price them up front.
        for nodes in related.values():
            if len(nodes) > 8:  # 9! permutations already exceed any sensible budget
                raise _TooHard
            self._spend(math.factorial(len(nodes)))
        return related


def canonical_nquads(graph: Graph) -> str:
    """The RDFC-1.0 canonical N-Quads of ``graph`` (sorted lines, ``_:c14n{n}`` blank nodes).

    Raises UnprocessableContent when the graph exceeds the bounds of this module.
    """
    if len(graph) > MAX_TRIPLES:
        raise UnprocessableContent(
            f"the document has {len(graph)} triples; digests are computed for at most {MAX_TRIPLES}"
        )
    blank = {t for triple in graph for t in triple if isinstance(t, BNode)}
    if len(blank) > MAX_BLANK_NODES:
        raise UnprocessableContent(
            f"the document has {len(blank)} blank nodes; digests are computed for at most {MAX_BLANK_NODES}"
        )
    lines = serialize(graph, formats.NTRIPLES, "").decode("utf-8")
    try:
        result: str = _BudgetedCanonicalizer(WORK_BUDGET).main(
            parse_nquads(lines), {"algorithm": "URDNA2015", "format": "application/n-quads"}
        )
    except _TooHard:
        raise UnprocessableContent(
            "the document's blank nodes are too symmetrical to canonicalise within the server's limits; "
            "give the nodes IRIs (e.g. <#measure>) instead of blank nodes"
        ) from None
    return result


def graph_digest(graph: Graph) -> str:
    """``sha256-`` + base64 of the SHA-256 of :func:`canonical_nquads` (UTF-8)."""
    hashed = hashlib.sha256(canonical_nquads(graph).encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(hashed).decode("ascii")


def read_document(data: bytes, base: str, content_type: str = formats.TURTLE) -> Graph:
    """Parse a fetched document under this module's bounds, ``base`` (a fragment is dropped) as its
    base IRI. A body that does not parse, or is over a bound, is 422 naming ``base``."""
    base = base.split("#", 1)[0]
    try:
        return parse(data, content_type, base, _LIMITS)
    except PodError as e:
        raise UnprocessableContent(f"{base} cannot be read as RDF: {e.detail}") from None


def content_digest(data: bytes, base: str, content_type: str = formats.TURTLE) -> str:
    """The digest of an RDF document (Turtle unless ``content_type`` says otherwise): see
    :func:`read_document` for how it is read and :func:`graph_digest` for the digest."""
    return graph_digest(read_document(data, base, content_type))


__all__ = [
    "DIGEST_PATTERN",
    "MAX_BLANK_NODES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_TRIPLES",
    "WORK_BUDGET",
    "canonical_nquads",
    "content_digest",
    "graph_digest",
    "read_document",
]
