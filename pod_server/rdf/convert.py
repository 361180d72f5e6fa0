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
- ``serialize(graph, media_type, base, *, jsonld_profile=None) -> bytes``
    * ``media_type`` in ``formats.WRITABLE``; UTF-8 bytes;
    * JSON-LD output is compacted with a useful ``@context`` (the graph's prefixes plus the
      common Solid vocabularies); ``jsonld_profile`` may be the JSON-LD 1.1 expanded, compacted or
      flattened profile IRI.
"""

from __future__ import annotations

from rdflib import Graph

from pod_server.rdf.limits import RdfLimits


def parse(data: bytes, content_type: str, base: str, limits: RdfLimits) -> Graph:
    raise NotImplementedError


def serialize(graph: Graph, media_type: str, base: str, *, jsonld_profile: str | None = None) -> bytes:
    raise NotImplementedError


__all__ = ["parse", "serialize"]
