"""PATCH bodies applied to a graph: N3 Patch (Solid Protocol §5.3.1) and SPARQL Update.

CONTRACT (implemented by the patch helper; the store relies on it):

- ``parse_patch(data, content_type, base) -> Patch``
    * ``text/n3``: an N3 Patch document with exactly one ``solid:InsertDeletePatch`` (or
      ``solid:Patch``) resource with optional ``solid:where``, ``solid:inserts``, ``solid:deletes``
      formulae; syntax errors raise ``InvalidRdf`` (400) and a document that parses but is not a
      valid patch (Solid Protocol §5.3.1: no patch resource, several, variables in inserts or
      deletes that do not occur in where, blank nodes in deletes or where, ...) raises
      ``UnprocessableContent`` (422);
    * ``application/sparql-update``: INSERT DATA, DELETE DATA, DELETE/INSERT ... WHERE, several
      operations separated by ``;``; a body of only whitespace is a valid no-op; syntax errors
      raise ``BadRequest`` with the parser's message; operations that would touch other graphs
      or load remote data (LOAD, CLEAR, DROP, CREATE, COPY, MOVE, ADD, ``GRAPH``/``WITH``/
      ``USING`` clauses, SERVICE) raise ``UnprocessableContent``;
    * any other type raises ``UnsupportedMediaType``.
- ``Patch.apply(graph)`` changes ``graph`` in place:
    * N3 Patch: ``where`` must match exactly one binding, else ``Conflict`` (409); every triple to
      delete must be present, else ``Conflict``; then deletes then inserts are applied;
    * SPARQL Update: applied as rdflib does, never touching the network.
- ``Patch.deletes`` is True when the patch can remove triples (needs acl:Write), else it only
  appends (acl:Append is enough). ``Patch.reads`` is True when it has a where/WHERE clause
  (needs acl:Read as well) (Solid Protocol §5.3.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph


@dataclass(frozen=True)
class Patch:
    media_type: str
    deletes: bool
    reads: bool

    def apply(self, graph: Graph) -> None:
        raise NotImplementedError


def parse_patch(data: bytes, content_type: str, base: str) -> Patch:
    raise NotImplementedError


__all__ = ["Patch", "parse_patch"]
