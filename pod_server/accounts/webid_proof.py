"""Proving control of a WebID hosted elsewhere, before an account may log in as it.

The WebID document must either name this server as the WebID's OpenID Provider (Solid-OIDC §4:
``<webid> solid:oidcIssuer <issuer>``, which only its controller can write), or carry the
verification triple this server gave the account: ``<webid> podserver:verificationCode "code"``.
Documents are fetched only through the safe fetcher :class:`pod_server.fetch.SafeFetcher` (timeouts,
size cap, no private addresses); the fetcher is injected, so tests can allow 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

from rdflib import Literal, URIRef

from pod_server.errors import BadRequest, Forbidden, PodError
from pod_server.fetch import SafeFetcher
from pod_server.rdf import formats
from pod_server.rdf.convert import parse
from pod_server.rdf.limits import RdfLimits
from pod_server.vocab import PODSERVER, SOLID

MAX_DOCUMENT_BYTES = 1024 * 1024
ACCEPT = "text/turtle, application/ld+json;q=0.9"


@dataclass(frozen=True)
class FetchedDocument:
    url: str
    content_type: str
    content: bytes


DocumentFetcher = Callable[[str], FetchedDocument]
"""Fetch a WebID document (no fragment) and return its final URL, media type and bytes."""


def through(fetcher: SafeFetcher) -> DocumentFetcher:
    """A :data:`DocumentFetcher` over the server's safe fetcher (private addresses refused unless
    its policy allows them). Never cached: the person has just edited the document."""

    def fetch(url: str) -> FetchedDocument:
        response = fetcher.get(url, accept=ACCEPT, cache=False)
        if response.status != 200:
            raise BadRequest(f"fetching the WebID document {url} gave status {response.status}; expected 200")
        return FetchedDocument(response.url, response.headers.get("content-type", ""), response.body)

    return fetch


def check_webid(webid: str) -> str:
    parts = urlsplit(webid)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(webid) > 2048:
        raise BadRequest(
            f"a WebID is an absolute http(s) URL, such as https://example.org/card#me; got {webid!r}"
        )
    return webid


def verification_triple(webid: str, code: str) -> str:
    """The Turtle line a person adds to their WebID document."""
    return f'<{webid}> <{PODSERVER.verificationCode}> "{code}" .'


_LIMITS = RdfLimits(
    max_bytes=MAX_DOCUMENT_BYTES, max_triples=50_000, max_literal_bytes=64 * 1024, max_jsonld_depth=32
)


class WebIdVerifier:
    def __init__(self, issuer: str, fetch: DocumentFetcher) -> None:
        self.issuer = issuer
        self.fetch = fetch

    def proof(self, webid: str, code: str) -> str:
        """How ``webid``'s document proves control: ``"issuer"`` or ``"triple"``.

        Raises :class:`BadRequest` when the document cannot be fetched or parsed, and
        :class:`Forbidden` when it holds neither proof.
        """
        document = urldefrag(webid).url
        try:
            fetched = self.fetch(document)
        except PodError as exc:
            raise BadRequest(f"could not fetch the WebID document {document}: {exc.detail}") from None
        media = formats.essence(fetched.content_type) or formats.TURTLE
        if not formats.is_rdf(media):
            raise BadRequest(f"the WebID document {document} is {media}, not RDF; serve it as text/turtle")
        try:
            graph = parse(fetched.content, media, fetched.url or document, _LIMITS)
        except PodError as exc:
            raise BadRequest(f"the WebID document {document} does not parse: {exc.detail}") from None
        subject = URIRef(webid)
        if (subject, SOLID.oidcIssuer, URIRef(self.issuer)) in graph:
            return "issuer"
        if (subject, PODSERVER.verificationCode, Literal(code)) in graph:
            return "triple"
        raise Forbidden(
            f"the WebID document {document} neither names {self.issuer} as solid:oidcIssuer of {webid} "
            f"nor holds the verification triple {verification_triple(webid, code)}; add one and try again"
        )


__all__ = [
    "DocumentFetcher",
    "FetchedDocument",
    "WebIdVerifier",
    "check_webid",
    "through",
    "verification_triple",
]
