"""Who webhook notifications come from (WebhookChannel2023 #auth: the sender MUST authenticate
its POST to ``sendTo`` as the identity it names in the channel's ``sender``).

The server has its own WebID, ``{base}.notifications/WebhookChannel2023/sender#this``, whose
document names this server as its OIDC issuer. Each POST carries a DPoP-bound access token for
that WebID, signed with the identity provider's key (published in its JWKS), and a fresh DPoP
proof for the target (RFC 9449 §4), so a receiver verifies it like any Solid-OIDC request.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from joserfc import jwt
from joserfc.jwk import ECKey
from rdflib import Graph, URIRef

from pod_server.idp.keys import KeyStore
from pod_server.idp.tokens import access_token
from pod_server.vocab import SOLID

TOKEN_LIFETIME = 20 * 60
"""Seconds an access token lives; a new one is made when less than a quarter of that is left."""


class WebhookSigner:
    """Makes the ``Authorization`` and ``DPoP`` headers of webhook POSTs. Thread-safe."""

    def __init__(
        self, keys: KeyStore, *, issuer: str, webid: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.webid = webid
        self.clock = clock
        self._key = ECKey.generate_key("P-256", private=True)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def headers(self, url: str) -> dict[str, str]:
        return {"Authorization": f"DPoP {self._current_token()}", "DPoP": self._proof(url)}

    def _current_token(self) -> str:
        now = self.clock()
        with self._lock:
            if self._token is None or self._token[1] - now < TOKEN_LIFETIME / 4:
                token = access_token(
                    self.keys,
                    issuer=self.issuer,
                    webid=self.webid,
                    client_id=self.webid,
                    jkt=self._key.thumbprint(),
                    scope="openid webid",
                    now=int(now),
                    lifetime=TOKEN_LIFETIME,
                )
                self._token = (token, now + TOKEN_LIFETIME)
            return self._token[0]

    def _proof(self, url: str) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self._key.as_dict(private=False)}
        claims = {"htm": "POST", "htu": url, "iat": int(self.clock()), "jti": str(uuid.uuid4())}
        return jwt.encode(header, claims, self._key, algorithms=["ES256"])


def sender_profile(webid: str, issuer: str) -> Graph:
    """The sender's WebID document: it names this server as its issuer (Solid-OIDC §5)."""
    graph = Graph(bind_namespaces="none")
    graph.add((URIRef(webid), SOLID.oidcIssuer, URIRef(issuer)))
    return graph


__all__ = ["TOKEN_LIFETIME", "WebhookSigner", "sender_profile"]
