"""Container representations: containment triples and contained-resource metadata.

Solid Protocol §5.2 (resource containment) and "contained resource metadata": the server adds
``ldp:contains`` for each child, and for each child its types, ``stat:size``, ``dcterms:modified``
and ``stat:mtime``. A container of 10,000 children must list fast, so the Turtle is written
directly from the children's metadata (no rdflib Graph, no child bodies read).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pod_server.store.backend import Meta
from pod_server.store.resource_store import ContainerView
from pod_server.vocab import DCTERMS, LDP, PIM, STAT, XSD, media_type_class

_PREFIXES = (
    f"@prefix ldp: <{LDP._NS}> .\n"
    f"@prefix stat: <{STAT._NS}> .\n"
    f"@prefix dcterms: <{DCTERMS._NS}> .\n"
    f"@prefix xsd: <{XSD._NS}> .\n"
)


def _iso(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _child_block(url: str, meta: Meta) -> str:
    if meta.is_container:
        types = "ldp:Container, ldp:BasicContainer, ldp:Resource"
    else:
        types = f"ldp:Resource, <{media_type_class(meta.content_type)}>"
    return (
        f"<{url}> a {types} ;\n"
        f"    stat:size {meta.size} ;\n"
        f'    dcterms:modified "{_iso(meta.mtime)}"^^xsd:dateTime ;\n'
        f"    stat:mtime {int(meta.mtime)} .\n"
    )


def container_turtle(view: ContainerView, to_url: Callable[[str], str], *, containment: bool = True) -> bytes:
    """The container as Turtle: its own triples, its types, containment and child metadata."""
    url = to_url(view.meta.path)
    types = ["ldp:Container", "ldp:BasicContainer", "ldp:Resource"]
    if view.is_storage_root:
        types.append(f"<{PIM.Storage}>")
    parts = [_PREFIXES, "\n", f"<{url}> a {', '.join(types)}"]
    children = view.children if containment else []
    child_urls = [to_url(c.path) for c in children]
    if child_urls:
        parts.append(" ;\n    ldp:contains ")
        parts.append(",\n        ".join(f"<{u}>" for u in child_urls))
    parts.append(" .\n")
    for child_url, meta in zip(child_urls, children, strict=True):
        parts.append(_child_block(child_url, meta))
    if view.own_body:
        # The container's own triples, stored as Turtle. They come last so that an @base or
        # @prefix in them cannot change how the lines above are read.
        parts.append("\n")
        parts.append(view.own_body.decode("utf-8"))
    return "".join(parts).encode("utf-8")


__all__ = ["container_turtle"]
