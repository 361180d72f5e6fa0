"""Reading from pods: every outbound request the app makes goes through here.

:class:`GuardedHTTP` is the ``requests.Session`` handed to ``pod_client``'s
:class:`~pod_client.session.Session` (the visitor's login, or an anonymous one), so the checks
apply to every hop, redirects and the identity provider's endpoints included:

- only ``http`` and ``https`` URLs;
- a host that resolves to a loopback, private, link-local, multicast, reserved or unspecified
  address is refused unless the configuration trusts it (the community's own host always is).
  The address is checked before the connection is made; a DNS answer that changes between the
  check and the connection is not caught (pod_server.fetch pins the address; this app is an
  example and keeps it short);
- no proxy variables or ``.netrc`` from the environment.

:class:`Reader` adds a timeout to each request, stops reading a body at ``max_bytes``, and parses
Turtle with the document's URL as base. Failures raise :class:`ReadError`, whose message is safe
to show: it names the URL and what went wrong, never a header or a token.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urlsplit

import requests
from pod_client.errors import NotAuthenticated, PodClientError
from pod_client.session import Session
from rdflib import Graph

Resolver = Callable[[str, int], Sequence[str]]

TURTLE = "text/turtle"
# JSON-LD is not asked for: rdflib's JSON-LD parser would fetch remote @contexts on its own.
ACCEPT_RDF = "text/turtle, application/n-triples;q=0.5"
_PARSERS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/x-turtle": "turtle"}


class ReadError(Exception):
    """A resource could not be read or understood. ``status`` is the HTTP status when there was
    one; ``message`` is plain text for the page."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.message = message
        self.status = status

    @property
    def hidden(self) -> bool:
        """The server refused to show it to this visitor (401/403) or said it is not there (404)."""
        return self.status in (401, 403, 404)


def _system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class GuardedHTTP(requests.Session):
    """A ``requests.Session`` that refuses URLs the policy does not allow (see the module doc)."""

    def __init__(
        self,
        trusted_hosts: frozenset[str] = frozenset(),
        *,
        allow_private: bool = False,
        resolver: Resolver = _system_resolver,
    ) -> None:
        super().__init__()
        self.trust_env = False  # no proxies or .netrc from the environment
        self.trusted_hosts = trusted_hosts
        self.allow_private = allow_private
        self.resolver = resolver

    def check(self, url: str) -> None:
        """Raise :class:`ReadError` unless the app may send a request to ``url``."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise ReadError(url, f"{url} is not an http(s) URL, so it was not fetched")
        if self.allow_private or host in self.trusted_hosts:
            return
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = self.resolver(host, port)
        except (OSError, ValueError):
            raise ReadError(url, f"{host} could not be resolved") from None
        if not addresses or any(_internal(a) for a in addresses):
            raise ReadError(
                url,
                f"{host} is a private or local address, which this app does not fetch from "
                "(operators: COMMUNITY_APP_ALLOW_HOSTS)",
            )

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.check(url.decode() if isinstance(url, bytes) else url)
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class Fetched:
    url: str
    """The URL after redirects (the base for relative IRIs)."""
    status: int
    content_type: str
    body: bytes


class Reader:
    """GETs for one visitor: through their ``pod_client`` session (signed when logged in)."""

    def __init__(self, session: Session, *, timeout: float = 10.0, max_bytes: int = 2 * 1024 * 1024) -> None:
        self.session = session
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._graphs: dict[str, Graph] = {}

    @property
    def webid(self) -> str | None:
        return self.session.webid

    def get(self, url: str, accept: str) -> Fetched:
        """One GET. Raises :class:`ReadError` for network failures, refused URLs and bodies over
        ``max_bytes``; any HTTP status is returned. A login that has ended raises
        :class:`~pod_client.errors.NotAuthenticated` (the view logs the visitor out)."""
        try:
            response = self.session.request(
                "GET", url, headers={"Accept": accept}, stream=True, timeout=self.timeout
            )
        except NotAuthenticated:
            raise
        except PodClientError:  # a network failure (the guard's ReadError passes through as is)
            raise ReadError(url, f"{urlsplit(url).netloc} could not be reached") from None
        try:
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    raise ReadError(url, f"{url} is larger than {self.max_bytes} bytes; it was not read")
                chunks.append(chunk)
        except requests.RequestException:
            raise ReadError(url, f"{urlsplit(url).netloc} stopped answering while sending {url}") from None
        finally:
            response.close()
        content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        return Fetched(response.url or url, response.status_code, content_type, b"".join(chunks))

    def graph(self, url: str) -> Graph:
        """The RDF document at ``url`` (without its fragment), parsed; cached for this reader.
        Raises :class:`ReadError` when it is not 200 or not Turtle/N-Triples that parses."""
        document = urldefrag(url)[0]
        if document in self._graphs:
            return self._graphs[document]
        fetched = self.get(document, ACCEPT_RDF)
        if fetched.status != 200:
            raise ReadError(document, _status_text(document, fetched.status), fetched.status)
        parser = _PARSERS.get(fetched.content_type)
        if parser is None:
            raise ReadError(document, f"{document} is {fetched.content_type or 'untyped'}, not Turtle")
        graph = Graph()
        try:
            graph.parse(data=fetched.body.decode("utf-8"), format=parser, publicID=fetched.url)
        except Exception:  # rdflib raises many types for bad syntax; all mean "not readable"
            raise ReadError(document, f"{document} is not valid Turtle") from None
        self._graphs[document] = graph
        return graph

    def json(self, url: str) -> Any:
        """The JSON document at ``url``; :class:`ReadError` unless 200 and JSON."""
        fetched = self.get(url, "application/json")
        if fetched.status != 200:
            raise ReadError(url, _status_text(url, fetched.status), fetched.status)
        try:
            return json.loads(fetched.body)
        except ValueError:
            raise ReadError(url, f"{url} is not valid JSON") from None


def _status_text(url: str, status: int) -> str:
    if status in (401, 403):
        return f"{url} is not visible to you"
    if status == 404:
        return f"{url} does not exist"
    return f"{url} answered {status}"


__all__ = ["ACCEPT_RDF", "Fetched", "GuardedHTTP", "ReadError", "Reader"]
