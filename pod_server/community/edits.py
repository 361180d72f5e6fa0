"""Read-modify-write of a community document as one step, under the store's lock.

Votes, decision claims and rule adoptions change documents that others may change at the same
moment (two members voting on one motion). Reading the graph, changing it and writing it back
with separate calls would lose one of two concurrent changes; :func:`edit_graph` runs the change
inside :meth:`ResourceStore.patch <pod_server.store.resource_store.ResourceStore.patch>`, which
holds the document's lock from read to write (and validates the result like any PATCH, shapes
included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rdflib import Graph

if TYPE_CHECKING:
    from pod_server.community.model import Community
    from pod_server.store.resource_store import ResourceStore

Change = Callable[[Graph], None]
"""Changes the graph in place; raises a PodError to refuse (then nothing is written). It runs
under the document's lock: it must not touch the store itself."""


class GraphEdit:
    """A :class:`~pod_server.rdf.patch.Patch` made of Python code instead of a PATCH body."""

    media_type = "application/x-pod-server-edit"
    deletes = True
    reads = True

    def __init__(self, change: Change) -> None:
        self.change = change

    def apply(self, graph: Graph) -> None:
        self.change(graph)


def edit_graph(store: ResourceStore, c: Community, relative: str, change: Change) -> None:
    """Apply ``change`` to the document ``relative`` of ``c`` atomically. A missing document is
    an empty graph to ``change`` (which should raise NotFound if it needs content)."""
    store.patch(c.path_of(relative), GraphEdit(change), c.at(relative))


__all__ = ["Change", "GraphEdit", "edit_graph"]
