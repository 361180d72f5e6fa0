"""The community agent: the server reading and notifying *as* a community ``C``.

Members grant ``C`` access to their halves, contributions and ballots (model §4, §6, §7); the
server reads them with exactly that access, never more:

- a URL on this server is read from the store after Web Access Control says ``C`` may Read it
  (no HTTP request to ourselves);
- any other URL is fetched through the safe fetcher (:mod:`pod_server.fetch`) with a DPoP-bound
  access token for ``C`` and a proof for that GET (:mod:`pod_server.idp.signer`), never
  from the fetcher's cache (the answer depends on who asks), and without following redirects
  (the proof names one URL; the token stays with the host it was meant for).

Notifications are Linked Data Notifications (LDN §4.2: discover the target's ``ldp:inbox`` from
its WebID profile; §4.3: POST the notification there), best effort.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urldefrag

from rdflib import Graph, URIRef

from pod_server.access.credentials import Credentials
from pod_server.access.groups import local_path
from pod_server.access.modes import Mode
from pod_server.errors import NotFound, PodError, UnprocessableContent
from pod_server.fetch import Fetched, FetchError, SafeFetcher
from pod_server.idp.signer import AgentSigner
from pod_server.rdf import formats
from pod_server.rdf.convert import parse, serialize
from pod_server.store.resource_store import ResourceStore
from pod_server.vocab import LDP

log = logging.getLogger(__name__)

ACCEPT = f"{formats.TURTLE}, {formats.JSONLD};q=0.9, {formats.NTRIPLES};q=0.8"
UNREACHABLE = 502
"""The status :meth:`CommunityAgent.get` reports when a remote server could not be reached."""


class Grants(Protocol):
    """What Web Access Control grants (``WacPolicy.granted``): the modes ``credentials`` hold on
    the resource at ``path`` (and the public's when asked)."""

    def granted(
        self, path: str, credentials: Credentials, *, with_public: bool = False
    ) -> tuple[frozenset[Mode], frozenset[Mode]]: ...


class CommunityAgent:
    """Reads and notifies as a WebID this server issues for. Thread-safe; one per app.

    Invariants: :meth:`get` never uses a cached answer and never raises for an unreadable URL
    (it reports the status); :meth:`graph` raises only :class:`UnprocessableContent`;
    :meth:`notify` never raises.
    """

    def __init__(
        self,
        store: ResourceStore,
        access: Grants,
        fetcher: SafeFetcher,
        signer: AgentSigner,
    ) -> None:
        self.store = store
        self.ids = store.ids
        self.access = access
        self.fetcher = fetcher
        self.signer = signer

    # -- reading ---------------------------------------------------------------------------
    def get(self, as_webid: str, url: str) -> Fetched:
        """GET ``url`` (its fragment dropped) as ``as_webid``: status, headers (``content-type``,
        ``etag``) and body. 403 when WAC refuses a local read; 502 when a remote host fails."""
        document, _ = urldefrag(url)
        path = local_path(self.ids, document)
        if path is not None:
            return self._local(as_webid, document, path)
        try:
            # One hop, no redirects, no cache (see the module docstring).
            return self.fetcher.get_as(
                document, self.signer.headers(as_webid, "GET", document), accept=ACCEPT
            )
        except FetchError as exc:
            return Fetched(document, UNREACHABLE, {"content-type": "text/plain"}, exc.detail.encode())

    def _local(self, as_webid: str, url: str, path: str) -> Fetched:
        def status(code: int) -> Fetched:
            return Fetched(url, code, {}, b"")

        if self.ids.is_server_managed(path):
            return status(404)
        try:
            user, _ = self.access.granted(path, Credentials(webid=as_webid))
            if Mode.READ not in user:
                return status(403)
            stored = self.store.read(path)
            if stored.meta.is_container:
                body = serialize(self.store.graph_of(path, url), formats.TURTLE, url)
                content_type = formats.TURTLE
            else:
                body, content_type = stored.body, stored.meta.content_type
        except NotFound:
            return status(404)
        except PodError as exc:
            return status(exc.status)
        return Fetched(url, 200, {"content-type": content_type, "etag": f'"{stored.meta.etag}"'}, body)

    def graph(self, as_webid: str, url: str) -> Graph:
        """The RDF at ``url`` read as ``as_webid``; 422 naming the URL and what went wrong."""
        fetched = self.get(as_webid, url)
        document = urldefrag(url)[0]
        if fetched.status != 200:
            reason = {403: "it refused access", 401: "it refused access", 404: "it does not exist"}.get(
                fetched.status, f"it answered {fetched.status}"
            )
            raise UnprocessableContent(
                f"{document} could not be read as {as_webid}: {reason}; "
                f"give {as_webid} Read access to it (WAC acl:agent) and check the URL"
            )
        if not formats.is_rdf(fetched.content_type):
            raise UnprocessableContent(
                f"{document} is {fetched.content_type or 'untyped'}, not RDF; serve it as {formats.TURTLE}"
            )
        try:
            return parse(fetched.body, fetched.content_type, document, self.store.limits)
        except PodError as exc:
            raise UnprocessableContent(f"{document} is not valid RDF: {exc.detail}") from None

    # -- notifying -------------------------------------------------------------------------
    def inbox_of(self, as_webid: str, target_webid: str) -> str | None:
        """LDN §4.2: the ``ldp:inbox`` the target's WebID profile names, or ``None``."""
        profile = self.graph(as_webid, target_webid)
        found = profile.value(URIRef(target_webid), LDP.inbox)
        return str(found) if isinstance(found, URIRef) else None

    def notify(self, as_webid: str, target_webid: str, activity: Graph) -> bool:
        """POST ``activity`` as Turtle to the target's inbox as ``as_webid``. True when the inbox
        took it; False on any failure (logged). Never raises."""
        try:
            inbox = self.inbox_of(as_webid, target_webid)
            if inbox is None:
                log.info("no ldp:inbox in the profile of %s; not notified", target_webid)
                return False
            body = serialize(activity, formats.TURTLE, inbox)
            path = local_path(self.ids, inbox)
            if path is not None:
                return self._deliver_locally(as_webid, path, body)
            headers = self.signer.headers(as_webid, "POST", inbox)
            answer = self.fetcher.post(inbox, body, content_type=formats.TURTLE, headers=headers)
            if 200 <= answer.status < 300:
                return True
            log.info("the inbox %s answered %s to a notification", inbox, answer.status)
        except PodError as exc:
            log.info("could not notify %s: %s", target_webid, exc.detail)
        except Exception:  # best effort: a notification never fails the request that sent it
            log.exception("could not notify %s", target_webid)
        return False

    def _deliver_locally(self, as_webid: str, container: str, body: bytes) -> bool:
        if not container.endswith("/"):
            return False
        user, _ = self.access.granted(container, Credentials(webid=as_webid))
        if not user & {Mode.APPEND, Mode.WRITE}:
            log.info("%s may not append to %s; not notified", as_webid, container)
            return False
        to_url: Callable[[str], str] = self.ids.to_url
        self.store.create_child(
            container, body, formats.TURTLE, slug=None, as_container=False, base_of=to_url
        )
        return True


__all__ = ["ACCEPT", "UNREACHABLE", "CommunityAgent", "Grants"]
