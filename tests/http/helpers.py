"""Small helpers for protocol tests: Link header parsing and RDF bodies."""

from __future__ import annotations

import requests
from rdflib import Graph

TURTLE = {"Content-Type": "text/turtle"}


def links(response: requests.Response) -> dict[str, set[str]]:
    """rel -> set of targets, from the Link header (RFC 8288), via requests' parser."""
    out: dict[str, set[str]] = {}
    header = response.headers.get("Link", "")
    for link in requests.utils.parse_header_links(header):
        for rel in link.get("rel", "").split():
            out.setdefault(rel, set()).add(link["url"])
    return out


def graph(response: requests.Response, fmt: str = "turtle") -> Graph:
    g = Graph()
    g.parse(data=response.content, format=fmt, publicID=response.url)
    return g
