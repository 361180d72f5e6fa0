"""The WebID profile and type indexes: find where a type of data lives, register a new place.

Type indexes (Solid Type Indexes, https://solid.github.io/type-indexes/) are how apps agree on
where data of a kind is kept. A WebID profile names a public one with ``solid:publicTypeIndex``;
the private one is named by ``solid:privateTypeIndex`` in the preferences file
(``pim:preferencesFile``, readable by the owner only), or in the profile itself on servers that put
it there. Each index holds registrations:

    <#r1> a solid:TypeRegistration;
        solid:forClass schema:Recipe;
        solid:instanceContainer </recipes/>.      # or solid:instance </cookbook.ttl>

:func:`find_locations` reads both indexes, skipping one the session may not read, and
:func:`register` adds a registration by PATCH (through :meth:`Pod.update_graph`, so a concurrent
change to the index is kept).
"""

from __future__ import annotations

import uuid
from urllib.parse import urldefrag

from rdflib import Graph, URIRef

from pod_client.errors import Forbidden, NotAuthenticated, NotFound, PodClientError
from pod_client.pod import Document, Pod
from pod_client.vocab import PIM, RDF, SOLID

_UNREADABLE = (Forbidden, NotAuthenticated, NotFound)


def profile(pod: Pod, webid: str) -> Document:
    """The WebID profile document (the WebID without its fragment)."""
    return pod.get_graph(urldefrag(webid)[0])


def _objects(graph: Graph, subject: str, predicate: URIRef) -> list[str]:
    return [str(o) for o in graph.objects(URIRef(subject), predicate) if isinstance(o, URIRef)]


def storages(pod: Pod, webid: str) -> list[str]:
    """The storages the profile names (``pim:storage``; Solid Protocol §4.1)."""
    return _objects(profile(pod, webid).graph, webid, PIM.storage)


def type_indexes(pod: Pod, webid: str) -> tuple[str | None, str | None]:
    """The ``(public, private)`` type index URLs, ``None`` where there is none, or where the
    session may not read the preferences file that names it (the private one, usually)."""
    card = profile(pod, webid).graph
    public = next(iter(_objects(card, webid, SOLID.publicTypeIndex)), None)
    private = next(iter(_objects(card, webid, SOLID.privateTypeIndex)), None)
    if public is None or private is None:
        for preferences in _objects(card, webid, PIM.preferencesFile):
            try:
                prefs = pod.get_graph(preferences).graph
            except _UNREADABLE:
                continue
            public = public or next(iter(_objects(prefs, webid, SOLID.publicTypeIndex)), None)
            private = private or next(iter(_objects(prefs, webid, SOLID.privateTypeIndex)), None)
    return public, private


def _registered(index: Graph, rdf_class: str) -> list[str]:
    locations: list[str] = []
    for registration in index.subjects(SOLID.forClass, URIRef(rdf_class)):
        for predicate in (SOLID.instance, SOLID.instanceContainer):
            locations += [str(o) for o in index.objects(registration, predicate) if isinstance(o, URIRef)]
    return sorted(locations)


def find_locations(pod: Pod, webid: str, rdf_class: str) -> list[str]:
    """Where data of ``rdf_class`` lives: the ``solid:instance`` and ``solid:instanceContainer`` of
    every registration ``solid:forClass rdf_class``: the public index's first, then the private
    one's (when the session may read it), each in URL order, without repeats."""
    found: list[str] = []
    for index in type_indexes(pod, webid):
        if index is None:
            continue
        try:
            graph = pod.get_graph(index).graph
        except _UNREADABLE:
            continue
        found += _registered(graph, rdf_class)
    return list(dict.fromkeys(found))


def register(pod: Pod, webid: str, rdf_class: str, location: str, *, public: bool = False) -> None:
    """Register ``location`` for ``rdf_class`` in the private type index (the public one when
    ``public``): a ``solid:TypeRegistration`` with ``solid:instanceContainer`` when ``location``
    ends with "/", else ``solid:instance``. Already registered there: nothing changes."""
    public_index, private_index = type_indexes(pod, webid)
    index = public_index if public else private_index
    if index is None:
        which = "public" if public else "private"
        raise PodClientError(
            f"{webid} has no {which} type index that this session can see; "
            f"create one and link it from the profile (solid:{which}TypeIndex)",
            url=webid,
        )
    predicate = SOLID.instanceContainer if location.endswith("/") else SOLID.instance

    def add(graph: Graph) -> None:
        for registration in graph.subjects(SOLID.forClass, URIRef(rdf_class)):
            if (registration, predicate, URIRef(location)) in graph:
                return
        if not graph:  # the profile names an index that is not there yet: make it one
            graph.add((URIRef(index), RDF.type, SOLID.TypeIndex))
            graph.add((URIRef(index), RDF.type, SOLID.ListedDocument if public else SOLID.UnlistedDocument))
        registration = URIRef(f"{urldefrag(index)[0]}#{uuid.uuid4().hex}")
        graph.add((registration, RDF.type, SOLID.TypeRegistration))
        graph.add((registration, SOLID.forClass, URIRef(rdf_class)))
        graph.add((registration, predicate, URIRef(location)))

    pod.update_graph(index, add)


__all__ = ["find_locations", "profile", "register", "storages", "type_indexes"]
