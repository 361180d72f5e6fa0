"""Container representations: containment triples and contained-resource metadata.

Solid Protocol §5.2 (resource containment) and "contained resource metadata": the server adds
``ldp:contains`` for each child, and for each child its types, ``stat:size``, ``dcterms:modified``
and ``stat:mtime``. A container of 10,000 children must list fast, so the Turtle is written
directly from the children's metadata (no rdflib Graph, no child bodies read), with the work
that repeats across children (dates of one second, media-type classes) done once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pod_server.store.resource_store import ContainerView
from pod_server.vocab import DCTERMS, LDP, PIM, STAT, XSD, media_type_class

_PREFIXES = (
    f"@prefix ldp: <{LDP._NS}> .\n"
    f"@prefix stat: <{STAT._NS}> .\n"
    f"@prefix dcterms: <{DCTERMS._NS}> .\n"
    f"@prefix xsd: <{XSD._NS}> .\n"
)
_CONTAINER_TYPES = "ldp:Container, ldp:BasicContainer, ldp:Resource"


def container_turtle(view: ContainerView, to_url: Callable[[str], str], *, containment: bool = True) -> bytes:
    """The container as Turtle: its own triples, its types, containment and child metadata."""
    path = view.meta.path
    url = to_url(path)
    # Children's paths extend the container's path, so their URLs extend its URL the same way.
    cut = len(path)
    types = _CONTAINER_TYPES + (f", <{PIM.Storage}>" if view.is_storage_root else "")
    parts = [_PREFIXES, "\n", f"<{url}> a {types}"]
    children = view.children if containment else []
    if children:
        parts.append(" ;\n    ldp:contains ")
        parts.append(",\n        ".join(f"<{url}{c.path[cut:]}>" for c in children))
    parts.append(" .\n")
    seconds: dict[int, str] = {}
    classes: dict[str, str] = {}
    gmtime, strftime = time.gmtime, time.strftime
    for child in children:
        if child.is_container:
            kinds = _CONTAINER_TYPES
        else:
            kinds = classes.get(child.content_type) or classes.setdefault(
                child.content_type, f"ldp:Resource, <{media_type_class(child.content_type)}>"
            )
        whole = int(child.mtime)
        stamp = seconds.get(whole) or seconds.setdefault(whole, strftime("%Y-%m-%dT%H:%M:%S", gmtime(whole)))
        millis = int((child.mtime - whole) * 1000)
        parts.append(
            f"<{url}{child.path[cut:]}> a {kinds} ;\n"
            f"    stat:size {child.size} ;\n"
            f'    dcterms:modified "{stamp}.{millis:03d}Z"^^xsd:dateTime ;\n'
            f"    stat:mtime {whole} .\n"
        )
    if view.own_body:
        # The container's own triples, stored as Turtle. They come last so that an @base or
        # @prefix in them cannot change how the lines above are read.
        parts.append("\n")
        parts.append(view.own_body.decode("utf-8"))
    return "".join(parts).encode("utf-8")


__all__ = ["container_turtle"]
