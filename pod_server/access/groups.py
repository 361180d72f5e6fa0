"""Agent groups (WAC §4.3 ``acl:agentGroup``): is this WebID a ``vcard:hasMember`` of that group?

A group is a node in a ``vcard:Group`` document. Documents on this server are read through the
store (cached by ETag, so a changed group is seen on the next request in every worker). Documents
elsewhere are fetched through the safe fetcher with short timeouts and cached:

- a fresh entry is used as it is;
- an expired entry is still answered from, while one background thread fetches it again;
- a failed fetch is remembered for ``failure_ttl`` seconds, and meanwhile the group has no members.

So a slow or dead group server costs one request at most ``fetch timeout`` seconds, once per
``failure_ttl`` per worker, never every request (NSS issue #1443: external groups and WebIDs in
ACLs made a pod about 100x slower).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

from rdflib import Graph, URIRef

from pod_server.errors import NotFound, PodError
from pod_server.fetch import SafeFetcher
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.rdf import formats
from pod_server.rdf.convert import parse
from pod_server.rdf.limits import RdfLimits
from pod_server.store.resource_store import ResourceStore
from pod_server.vocab import VCARD

log = logging.getLogger(__name__)

Members = dict[str, frozenset[str]]
"""Group IRI -> member WebIDs, for every group in one document."""


def _members(graph: Graph) -> Members:
    found: dict[str, set[str]] = {}
    for group, member in graph.subject_objects(VCARD.hasMember):
        if isinstance(member, URIRef):
            found.setdefault(str(group), set()).add(str(member))
    return {k: frozenset(v) for k, v in found.items()}


def local_path(ids: IdentifierMap, url: str) -> str | None:
    """The storage path of ``url`` when this server holds it, else ``None``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    base = urlsplit(ids.base_url)
    host = parts.netloc.lower()
    netloc = base.netloc.lower()
    if parts.scheme != base.scheme or not (
        host == netloc or (ids.subdomains and host.endswith("." + netloc))
    ):
        return None
    try:
        return ids.to_path(host, parts.path or "/")
    except PodError:
        return None


@dataclass
class _Remote:
    members: Members
    expires: float
    refreshing: bool = False


class GroupMembership:
    """Answers ``is_member(group, webid)``. Thread-safe; one per process."""

    def __init__(
        self,
        store: ResourceStore,
        fetcher: SafeFetcher | None,
        *,
        ttl: float = 300.0,
        failure_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self.clock = clock
        self._local: dict[str, tuple[str, Members]] = {}
        self._remote: dict[str, _Remote] = {}
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}

    def is_member(self, group: str, webid: str) -> bool:
        document, _ = urldefrag(group)
        path = local_path(self.store.ids, document)
        members = self._local_members(path) if path is not None else self._remote_members(document)
        return webid in members.get(group, frozenset())

    def forget(self, path: str) -> None:
        """Drop a local document from the cache (a change event; the ETag check is what counts)."""
        self._local.pop(path, None)

    # -- documents on this server ------------------------------------------------------------
    def _local_members(self, path: str) -> Members:
        try:
            meta = self.store.backend.stat(path)
            cached = self._local.get(path)
            if cached is not None and cached[0] == meta.etag:
                return cached[1]
            stored = self.store.backend.read(path)
            if not formats.is_rdf(stored.meta.content_type):
                return {}
            url = self.store.ids.to_url(path)
            members = (
                _members(parse(stored.body, formats.TURTLE, url, self.store.limits)) if stored.body else {}
            )
        except NotFound:
            self._local.pop(path, None)
            return {}
        except PodError:
            log.warning("the group document %s could not be read", path)
            return {}
        self._local[path] = (stored.meta.etag, members)
        return members

    # -- documents elsewhere ---------------------------------------------------------------
    def _remote_members(self, url: str) -> Members:
        now = self.clock()
        entry = self._remote.get(url)
        if entry is not None and entry.expires > now:
            return entry.members
        if entry is not None:
            # Stale: answer from what we have, refresh once in the background.
            with self._lock:
                start = not entry.refreshing
                entry.refreshing = True
            if start:
                threading.Thread(target=self._refresh, args=(url,), daemon=True).start()
            return entry.members
        with self._lock:
            gate = self._fetching.setdefault(url, threading.Lock())
        # One fetch per document at a time; others wait at most as long as a fetch may take.
        timeout = self.fetcher.policy.total_timeout if self.fetcher else 0.0
        if not gate.acquire(timeout=timeout):
            return {}
        try:
            entry = self._remote.get(url)
            if entry is None:
                entry = self._fetch_and_store(url)
            return entry.members
        finally:
            gate.release()

    def _refresh(self, url: str) -> None:
        old = self._remote.get(url)
        members, ok = self._fetch(url)
        if not ok and old is not None:
            # The refresh failed: keep the last answer a little longer, then try again.
            members = old.members
        self._store(url, members, ok)

    def _fetch_and_store(self, url: str) -> _Remote:
        members, ok = self._fetch(url)
        return self._store(url, members, ok)

    def _store(self, url: str, members: Members, ok: bool) -> _Remote:
        entry = _Remote(members, self.clock() + (self.ttl if ok else self.failure_ttl))
        self._remote[url] = entry
        return entry

    def _fetch(self, url: str) -> tuple[Members, bool]:
        """The groups in the document at ``url``, and whether it could be fetched and read."""
        if self.fetcher is None:
            return {}, False
        try:
            accept = f"{formats.TURTLE}, {formats.JSONLD};q=0.9"
            fetched = self.fetcher.get(url, accept=accept, cache=False)
            if fetched.status == 200 and formats.is_rdf(fetched.content_type):
                limits: RdfLimits = self.store.limits
                return _members(parse(fetched.body, fetched.content_type, fetched.url, limits)), True
            log.warning("the group document %s answered %s", url, fetched.status)
        except PodError as exc:
            log.warning("the group document %s could not be fetched: %s", url, exc.detail)
        return {}, False


__all__ = ["GroupMembership", "local_path"]
