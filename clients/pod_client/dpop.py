"""DPoP proofs (RFC 9449): a key the session keeps, and a fresh proof for every request."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from joserfc import jwt
from joserfc.jwk import ECKey


class DpopKey:
    """An ES256 (P-256) key pair. ``thumbprint`` is what tokens bind as ``cnf.jkt`` (RFC 9449 §6.1)."""

    def __init__(self, key: ECKey | None = None) -> None:
        self.key = key or ECKey.generate_key("P-256", private=True)

    @property
    def thumbprint(self) -> str:
        return str(self.key.thumbprint())

    def to_dict(self) -> dict[str, Any]:
        """The private JWK, for a token cache file (which must be kept 0600)."""
        return dict(self.key.as_dict(private=True))

    @classmethod
    def from_dict(cls, jwk: dict[str, Any]) -> DpopKey:
        return cls(ECKey.import_key(jwk))

    def proof(
        self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None
    ) -> str:
        """A proof for one request (RFC 9449 §4.2): ``htu`` without query and fragment, ``ath``
        when an access token is sent, ``nonce`` when the server asked for one (§8)."""
        parts = urlsplit(url)
        claims: dict[str, Any] = {
            "htm": method.upper(),
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            "iat": int(time.time()),
            "jti": str(uuid.uuid4()),
        }
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        return jwt.encode(header, claims, self.key, algorithms=["ES256"])


__all__ = ["DpopKey"]
