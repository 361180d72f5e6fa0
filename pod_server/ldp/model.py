"""Plain dataclasses that cross below the HTTP layer.

The HTTP layer parses a Flask request into an :class:`Operation` and writes a :class:`Result`
back; nothing below ``pod_server.http`` imports Flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pod_server.store.backend import Meta

if TYPE_CHECKING:
    from pod_server.rdf.jsonld import JsonLdFrame
    from pod_server.rdf.patch import Patch


@dataclass(frozen=True, slots=True)
class Conditions:
    """HTTP preconditions (RFC 9110 §13). ETags are kept without quotes; ``("*",)`` means any."""

    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None
    if_modified_since: float | None = None
    if_unmodified_since: float | None = None

    @property
    def empty(self) -> bool:
        return (
            self.if_match is None
            and self.if_none_match is None
            and self.if_modified_since is None
            and self.if_unmodified_since is None
        )


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    content_type: str
    """The full Content-Type header value, parameters included."""


@dataclass(frozen=True, slots=True)
class Page:
    """A request for one page of a container listing: children after ``after``, at most ``size``."""

    size: int
    after: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """One request, as the LDP layer sees it.

    ``path`` is the canonical storage path of the target (see ``pod_server.ldp.identifiers``);
    ``url`` is its absolute URL, the base for relative IRIs in bodies. ``patch`` is a PATCH
    body already parsed (N3 Patch or SPARQL Update), parsed once because access control needs
    to know whether it deletes or reads before the handler applies it. ``jsonld_profile`` is the
    ``profile`` parameter of the client's ``application/ld+json`` Accept range; ``jsonld_frame``
    a JSON-LD frame a GET or HEAD sent (``?frame=`` or ``JSON-LD-Frame``, docs/jsonld.md).
    """

    method: str
    path: str
    url: str
    accept: str = "*/*"
    conditions: Conditions = field(default_factory=Conditions)
    body: Body | None = None
    slug: str | None = None
    link_types: frozenset[str] = frozenset()
    range: str | None = None
    page: Page | None = None
    jsonld_profile: str | None = None
    patch: Patch | None = None
    jsonld_frame: JsonLdFrame | None = None


@dataclass(slots=True)
class Result:
    """What an LDP operation answers. ``meta`` describes the target after the operation.

    ``body`` is ``None`` for answers without content. ``location`` is a storage path; the HTTP
    layer turns it into an absolute URL. ``headers`` carries extra headers the operation decided
    (Content-Range, Link rel=next, Preference-Applied).
    """

    status: int
    meta: Meta | None = None
    body: bytes | None = None
    content_type: str | None = None
    location: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)

    def link(self, target: str, rel: str) -> None:
        self.links.append((target, rel))

    def extend_links(self, links: Iterable[tuple[str, str]]) -> None:
        self.links.extend(links)


__all__ = ["Body", "Conditions", "Operation", "Page", "Result"]
