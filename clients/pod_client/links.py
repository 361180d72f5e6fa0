"""Walking a server's URLs: a ``Link`` header's targets (RFC 8288) and a resource's container."""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from requests.utils import parse_header_links


def links(response: Any) -> dict[str, list[str]]:
    """The ``Link`` header (RFC 8288) of ``response`` (a ``requests.Response``) as relation ->
    target URLs (absolute, in order). Unlike ``response.links`` it keeps every target of a relation
    (a resource has several ``rel="type"``); RFC 8288 §3.3: one ``rel`` may list several types."""
    found: dict[str, list[str]] = {}
    header = response.headers.get("Link")
    if not header:
        return found
    for value in parse_header_links(header):
        target = urljoin(response.url or "", value.get("url", ""))
        for rel in value.get("rel", "").split():
            found.setdefault(rel, []).append(target)
    return found


def link(response: Any, rel: str) -> str | None:
    """The (absolute) target of the first ``Link`` value with relation ``rel`` in ``response``."""
    return next(iter(links(response).get(rel, [])), None)


def parent(url: str) -> str | None:
    """The container holding ``url`` (Solid Protocol §3.1: the path up to the last ``/``);
    ``None`` at the root of the host."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path:
        return None
    return urlunsplit((parts.scheme, parts.netloc, path.rsplit("/", 1)[0] + "/", "", ""))


def without_query(url: str) -> str:
    """``url`` without its query and fragment: the resource itself."""
    parts = urlsplit(urldefrag(url)[0])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


__all__ = ["link", "links", "parent", "without_query"]
