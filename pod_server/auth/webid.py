"""WebID profiles: which OpenID Providers a WebID trusts to speak for it.

Solid-OIDC §4.1: the issuers valid for a WebID are the objects of ``?webid solid:oidcIssuer ?iss``
in its profile document. :meth:`WebIdProfiles.issuers` answers that set:

- for a WebID on this server, by reading the document through the :class:`ResourceStore` (no HTTP,
  so a worker never calls itself); cached ``local_ttl`` seconds, and forgotten at once when this
  process's store changes the document (its change events);
- for any other WebID, by fetching the document with the safe fetcher, as Turtle or JSON-LD (parsed
  by :func:`pod_server.rdf.convert.parse`, which never loads a remote JSON-LD context); cached
  ``ttl`` seconds, a failure ``failure_ttl`` seconds.

Failures raise :class:`~pod_server.errors.InvalidToken`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

from rdflib import Graph, URIRef

from pod_server.errors import InvalidToken, NotFound, PodError
from pod_server.fetch import SafeFetcher
from pod_server.rdf.convert import parse
from pod_server.rdf.limits import RdfLimits
from pod_server.store import events
from pod_server.store.resource_store import ResourceStore
from pod_server.vocab import SOLID

ACCEPT = "text/turtle, application/ld+json;q=0.9"
PROFILE_LIMITS = RdfLimits(
    max_bytes=1024 * 1024, max_triples=50_000, max_literal_bytes=64 * 1024, max_jsonld_depth=32
)


@dataclass
class _Entry:
    issuers: frozenset[str]
    expires: float
    error: str | None = None


@dataclass
class WebIdProfiles:
    fetcher: SafeFetcher
    store: ResourceStore | None = None
    """This server's store: WebIDs under its base URL are read from it."""
    ttl: float = 300.0
    local_ttl: float = 30.0
    failure_ttl: float = 10.0
    max_entries: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _cache: OrderedDict[str, _Entry] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.store is not None:
            for signal in (events.created, events.updated, events.deleted):
                signal.connect(self._changed, sender=self.store, weak=False)

    def issuers(self, webid: str) -> frozenset[str]:
        """The issuers ``webid``'s profile lists (raise InvalidToken if it cannot be read)."""
        document = urldefrag(webid)[0]
        now = self.clock()
        with self._lock:
            entry = self._cache.get(document)
            if entry is not None and entry.expires > now:
                self._cache.move_to_end(document)
            else:
                entry = None
        if entry is None:
            entry = self._load(webid, document, now)
            with self._lock:
                self._cache[document] = entry
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        if entry.error is not None:
            raise InvalidToken(entry.error, check="webid-profile")
        return entry.issuers

    def forget(self, document: str) -> None:
        with self._lock:
            self._cache.pop(document, None)

    def _changed(self, _sender: Any, **info: Any) -> None:
        url = info.get("url")
        if isinstance(url, str):
            self.forget(url)

    def _load(self, webid: str, document: str, now: float) -> _Entry:
        path = self._local_path(document)
        try:
            graph = self._read_local(path, document) if path is not None else self._fetch(document)
        except InvalidToken as exc:
            return _Entry(frozenset(), now + self.failure_ttl, exc.detail)
        # Solid-OIDC §4.1: ?webid solid:oidcIssuer ?iss.
        found = frozenset(
            str(o) for o in graph.objects(URIRef(webid), SOLID.oidcIssuer) if isinstance(o, URIRef)
        )
        return _Entry(found, now + (self.local_ttl if path is not None else self.ttl))

    def _local_path(self, document: str) -> str | None:
        """The storage path of ``document`` when it is on this server, else ``None``."""
        if self.store is None:
            return None
        ids = self.store.ids
        try:
            parts, base = urlsplit(document), urlsplit(ids.base_url)
        except ValueError:
            return None
        host, own = parts.netloc.lower(), base.netloc.lower()
        if parts.scheme != base.scheme or not (host == own or (ids.subdomains and host.endswith("." + own))):
            return None
        prefix = base.path.rstrip("/")
        if prefix and not parts.path.startswith(prefix + "/"):
            return None
        try:
            return ids.to_path(host, parts.path)
        except PodError:
            return None

    def _read_local(self, path: str, document: str) -> Graph:
        assert self.store is not None
        try:
            return self.store.graph_of(path, document)
        except NotFound:
            raise InvalidToken(
                f"the WebID profile {document} does not exist", check="webid-profile"
            ) from None
        except PodError as exc:
            raise InvalidToken(
                f"the WebID profile {document} could not be read: {exc.detail}", check="webid-profile"
            ) from None

    def _fetch(self, document: str) -> Graph:
        try:
            fetched = self.fetcher.get(document, accept=ACCEPT, cache=False)
        except PodError as exc:
            raise InvalidToken(
                f"the WebID profile could not be fetched: {exc.detail}", check="webid-profile"
            ) from None
        if fetched.status != 200:
            raise InvalidToken(
                f"the WebID profile {document} answered {fetched.status}; expected 200", check="webid-profile"
            )
        try:
            return parse(fetched.body, fetched.content_type, fetched.url, PROFILE_LIMITS)
        except PodError as exc:
            raise InvalidToken(
                f"the WebID profile {document} could not be read as RDF: {exc.detail}", check="webid-profile"
            ) from None


__all__ = ["ACCEPT", "PROFILE_LIMITS", "WebIdProfiles"]
