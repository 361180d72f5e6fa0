"""Content digests of RDF documents (docs/communities.md §5), computed on the client.

A reviewer acknowledges a contribution *as they read it*: the acknowledgement carries the digest of
the document, and the server refuses it (409) when the contribution changed in between. The
digest is

.. code-block:: text

    "sha256-" + base64(sha256(canonical N-Quads))

where canonical N-Quads is RDF Dataset Canonicalization (RDFC-1.0, the algorithm pyld calls
``URDNA2015``) of the whole document, parsed with its own URL as base. Because it is computed over
the canonical form, the same graph gives the same digest in any syntax (Turtle, JSON-LD,
N-Triples), with any blank node labels, prefixes or triple order.

The server has its own implementation of the same algorithm (``pod_client`` never imports
``pod_server``); both must agree, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib

from pyld import jsonld
from rdflib import Graph

from pod_client.pod import parse_rdf

PREFIX = "sha256-"
"""Every digest starts with the name of its hash function."""


def canonical_nquads(graph: Graph) -> str:
    """``graph`` as canonical N-Quads (RDFC-1.0 / URDNA2015): one sorted line per triple, blank
    nodes relabelled ``_:c14n0``, ``_:c14n1``, ... by the graph's structure alone."""
    nquads = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    canonical = jsonld.normalize(
        nquads,
        {"algorithm": "URDNA2015", "inputFormat": "application/n-quads", "format": "application/n-quads"},
    )
    return str(canonical)


def graph_digest(graph: Graph) -> str:
    """The digest of a parsed document (its relative IRIs already resolved)."""
    canonical = canonical_nquads(graph).encode("utf-8")
    return PREFIX + base64.b64encode(hashlib.sha256(canonical).digest()).decode("ascii")


def content_digest(data: Graph | bytes | str, base: str, content_type: str = "text/turtle") -> str:
    """The digest of a document: a graph, or its body (``data``, in ``content_type``, Turtle by
    default) parsed with ``base`` (the document's URL, without fragment) as base IRI.

    Raises :class:`pod_client.errors.PodClientError` when the body does not parse."""
    if isinstance(data, Graph):
        return graph_digest(data)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return graph_digest(parse_rdf(raw, content_type, base.split("#", 1)[0]))


__all__ = ["PREFIX", "canonical_nquads", "content_digest", "graph_digest"]
