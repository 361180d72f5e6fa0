"""The Solid-OIDC relying party: a web redirect login with PKCE and DPoP, as a public client
identified by a Client ID Document.

The pieces that speak to the provider (discovery, the token request with its DPoP proof and nonce
retry, ID token checks, refresh and revocation) are ``pod_client``'s
:class:`~pod_client.session.Session`, whose two login steps (``authorization_url`` and
``finish_login``) the app runs across its own ``/callback`` instead of a loopback listener:

1. :func:`find_issuers`: the visitor types a WebID (or an issuer); the app reads the WebID profile
   for ``solid:oidcIssuer`` (Solid-OIDC, "OIDC Issuer Discovery"), or takes the URL as an issuer
   when it answers OpenID discovery (OIDC Discovery §4);
2. :func:`start_login`: authorization code request (RFC 6749 §4.1) with the
   ``client_id`` = ``{app}client-id`` (Solid-OIDC §5.1, :func:`client_id_document`), PKCE S256
   (RFC 7636 §4.2), ``state`` and ``nonce``;
3. :func:`finish_login`: checks ``state`` and ``iss`` (RFC 9207 §2.4), exchanges the
   code with a DPoP proof (RFC 9449 §5), verifies the ID token and reads the WebID from it;
4. :func:`check_issuer`: the WebID's profile must list the issuer that vouched for it, or the
   login is refused (the same check Solid resource servers make).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urlsplit

from pod_client.errors import PodClientError
from pod_client.session import SCOPE, LoginRequest, Session
from pod_client.vocab import SOLID
from rdflib import URIRef

from community_app.config import AppConfig
from community_app.fetch import Reader, ReadError

OIDC_CONTEXT = "https://www.w3.org/ns/solid/oidc-context.jsonld"
"""The JSON-LD context a Client ID Document names (Solid-OIDC §5.1)."""


class LoginError(Exception):
    """The login cannot go on; ``message`` is plain text for the page (no token, no code)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def client_id_document(config: AppConfig) -> dict[str, Any]:
    """Solid-OIDC §5.1: JSON-LD at the ``client_id`` URL, naming itself and its redirect URIs. A
    public client (``token_endpoint_auth_method: none``): PKCE and DPoP protect its codes and tokens."""
    return {
        "@context": [OIDC_CONTEXT],
        "client_id": config.client_id,
        "client_name": config.app_name,
        "client_uri": config.base_url,
        "redirect_uris": [config.redirect_uri],
        "post_logout_redirect_uris": [config.base_url],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": SCOPE,
        "token_endpoint_auth_method": "none",
        "application_type": "web",
    }


@dataclass(frozen=True)
class Discovered:
    """What the visitor's input led to: the issuers to choose from, and the WebID if it was one."""

    issuers: tuple[str, ...]
    webid: str | None


def _as_url(text: str) -> str:
    text = text.strip()
    if text and "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(text) > 2048:
        raise LoginError(
            "Type your WebID (such as https://you.example/profile/card#me) or your provider's URL."
        )
    return text


def find_issuers(reader: Reader, text: str) -> Discovered:
    """The issuers for what the visitor typed. A WebID profile's ``solid:oidcIssuer`` values (of the
    WebID itself, or of the only subject that has any when the input has no fragment); else the
    URL itself when it answers OpenID discovery. ``reader`` must be anonymous."""
    url = _as_url(text)
    try:
        graph = reader.graph(url)
    except ReadError:
        graph = None
    if graph is not None:
        subject = URIRef(url)
        issuers = [str(o) for o in graph.objects(subject, SOLID.oidcIssuer) if isinstance(o, URIRef)]
        if not issuers and not urldefrag(url)[1]:
            subjects = {s for s in graph.subjects(SOLID.oidcIssuer, None) if isinstance(s, URIRef)}
            if len(subjects) == 1:
                subject = subjects.pop()
                issuers = [str(o) for o in graph.objects(subject, SOLID.oidcIssuer) if isinstance(o, URIRef)]
        if issuers:
            return Discovered(tuple(sorted(set(issuers))), str(subject))
    try:
        metadata = reader.json(url.rstrip("/") + "/.well-known/openid-configuration")
    except ReadError:
        metadata = None
    if isinstance(metadata, dict) and isinstance(metadata.get("issuer"), str):
        return Discovered((str(metadata["issuer"]),), None)
    raise LoginError(
        f"{url} is neither a WebID profile naming its identity provider (solid:oidcIssuer) nor an "
        "identity provider. Check the address and try again."
    )


def check_issuer(reader: Reader, webid: str, issuer: str) -> None:
    """Solid-OIDC: the WebID's profile must list the issuer (``solid:oidcIssuer``); a provider
    cannot vouch for WebIDs that do not name it."""
    try:
        graph = reader.graph(webid)
    except ReadError as exc:
        raise LoginError(
            f"Your WebID profile could not be read to confirm the login: {exc.message}"
        ) from None
    listed = {str(o).rstrip("/") for o in graph.objects(URIRef(webid), SOLID.oidcIssuer)}
    if issuer.rstrip("/") not in listed:
        raise LoginError(f"Your WebID profile does not name {issuer} as your identity provider.")


def start_login(session: Session, redirect_uri: str) -> tuple[str, LoginRequest]:
    """The provider's authorization URL for a login through the app's ``redirect_uri`` (pod_client
    does the protocol: discovery, PKCE, state and nonce). Raises :class:`LoginError`."""
    try:
        return session.authorization_url(redirect_uri)
    except PodClientError as exc:
        raise LoginError(f"The identity provider could not be used: {exc}") from None
    except ReadError as exc:
        raise LoginError(f"The identity provider could not be used: {exc.message}") from None


def finish_login(session: Session, answer: Mapping[str, str], login: LoginRequest) -> None:
    """Finish the login from the callback's query parameters. Raises :class:`LoginError`."""
    try:
        session.finish_login(answer, login)
    except PodClientError as exc:
        raise LoginError(f"The login did not complete: {exc}") from None
    except ReadError as exc:
        raise LoginError(f"The login did not complete: {exc.message}") from None
    if session.webid is None:
        raise LoginError("The identity provider did not say which WebID logged in.")


__all__ = [
    "Discovered",
    "LoginError",
    "check_issuer",
    "client_id_document",
    "find_issuers",
    "finish_login",
    "start_login",
]
