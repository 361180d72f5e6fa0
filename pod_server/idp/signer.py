"""Requests made as a WebID this server issues for: the webhook sender
(:mod:`pod_server.notifications.sender`) and community agents (:mod:`pod_server.community.agent`).

For any such WebID and any method: an access token signed with the identity provider's key (Solid-OIDC §6,
what :func:`pod_server.idp.tokens.access_token` makes), bound to one DPoP key (RFC 9449 §6.1
``cnf.jkt``), and a fresh DPoP proof per request (RFC 9449 §4.2: ``htm``, ``htu`` without query
and fragment, ``iat``, ``jti``, and ``ath``, the hash of the token, §4.3). A receiver verifies it
like any Solid-OIDC request: the WebID's profile names this server as its ``solid:oidcIssuer``.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from joserfc import jwt
from joserfc.jwk import ECKey

from pod_server.idp.keys import KeyStore
from pod_server.idp.tokens import access_token

TOKEN_LIFETIME = 10 * 60
"""Seconds an access token lives; a new one is made when less than a quarter of that is left."""


def _htu(url: str) -> str:
    """RFC 9449 §4.2: the target URI without query and fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class AgentSigner:
    """Makes ``Authorization`` and ``DPoP`` headers for requests as a WebID. Thread-safe; tokens
    are cached per WebID and share one DPoP key per signer."""

    def __init__(self, keys: KeyStore, *, issuer: str, clock: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self.issuer = issuer
        self.clock = clock
        self._key = ECKey.generate_key("P-256", private=True)
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def headers(self, webid: str, method: str, url: str) -> dict[str, str]:
        token = self._token(webid)
        return {"Authorization": f"DPoP {token}", "DPoP": self._proof(method, url, token)}

    def _token(self, webid: str) -> str:
        now = self.clock()
        with self._lock:
            found = self._tokens.get(webid)
            if found is None or found[1] - now < TOKEN_LIFETIME / 4:
                token = access_token(
                    self.keys,
                    issuer=self.issuer,
                    webid=webid,
                    client_id=webid,
                    jkt=self._key.thumbprint(),
                    scope="openid webid",
                    now=int(now),
                    lifetime=TOKEN_LIFETIME,
                )
                found = self._tokens[webid] = (token, now + TOKEN_LIFETIME)
            return found[0]

    def _proof(self, method: str, url: str, token: str) -> str:
        ath = base64.urlsafe_b64encode(hashlib.sha256(token.encode("ascii")).digest()).rstrip(b"=")
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self._key.as_dict(private=False)}
        claims = {
            "htm": method,
            "htu": _htu(url),
            "iat": int(self.clock()),
            "jti": str(uuid.uuid4()),
            "ath": ath.decode("ascii"),
        }
        return jwt.encode(header, claims, self._key, algorithms=["ES256"])


__all__ = ["TOKEN_LIFETIME", "AgentSigner"]
