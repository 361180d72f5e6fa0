"""Walking a server's URLs: a ``Link`` header's target (RFC 8288) and a resource's container."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from requests.utils import parse_header_links


def link(response: Any, rel: str) -> str | None:
    """The target of the first ``Link`` value with relation ``rel`` in ``response`` (a
    ``requests.Response``); RFC 8288 §3.3: one ``rel`` may list several relation types."""
    header = response.headers.get("Link")
    if not header:
        return None
    for found in parse_header_links(header):
        if rel in found.get("rel", "").split():
            return str(found["url"])
    return None


def parent(url: str) -> str | None:
    """The container holding ``url`` (Solid Protocol §3.1: the path up to the last ``/``);
    ``None`` at the root of the host."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path:
        return None
    return urlunsplit((parts.scheme, parts.netloc, path.rsplit("/", 1)[0] + "/", "", ""))


__all__ = ["link", "parent"]
