"""The JWTs the provider signs: access tokens and ID tokens.

Access tokens follow what Solid resource servers check today (Solid-OIDC §6, RFC 9068 layout):
``iss`` (exactly the discovery ``issuer``), ``aud`` (``"solid"`` and the ``client_id``, which
solid-client-authn checks when it reads the WebID from the access token), ``sub``, ``webid``,
``client_id``, ``iat``, ``exp``, ``jti``, ``scope`` and ``cnf.jkt`` (RFC 9449 §6.1). They are
signed ES256 with ``typ`` ``at+jwt``. ID tokens (OIDC Core §2) carry ``webid`` (Solid-OIDC §8),
``azp`` and ``nonce``, signed RS256 (the OIDC default every client supports).
"""

from __future__ import annotations

import secrets
from typing import Any

from joserfc import jwt

from pod_server.idp.keys import KeyStore

ACCESS_TOKEN_ALG = "ES256"
ID_TOKEN_ALG = "RS256"


def _sign(keys: KeyStore, alg: str, typ: str, claims: dict[str, Any]) -> str:
    key = keys.current(alg)
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims, key.key, algorithms=[alg])


def access_token(
    keys: KeyStore,
    *,
    issuer: str,
    webid: str,
    client_id: str,
    jkt: str,
    scope: str,
    now: int,
    lifetime: int,
) -> str:
    claims = {
        "iss": issuer,
        "aud": ["solid", client_id],
        "sub": webid,
        "webid": webid,
        "client_id": client_id,
        "azp": client_id,
        "scope": scope,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
        "cnf": {"jkt": jkt},
    }
    return _sign(keys, ACCESS_TOKEN_ALG, "at+jwt", claims)


def id_token(
    keys: KeyStore,
    *,
    issuer: str,
    webid: str,
    client_id: str,
    nonce: str | None,
    auth_time: int,
    jkt: str,
    now: int,
    lifetime: int,
) -> str:
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "azp": client_id,
        "sub": webid,
        "webid": webid,
        "iat": now,
        "exp": now + lifetime,
        "auth_time": auth_time,
        "jti": secrets.token_urlsafe(16),
        "cnf": {"jkt": jkt},
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return _sign(keys, ID_TOKEN_ALG, "JWT", claims)


__all__ = ["ACCESS_TOKEN_ALG", "ID_TOKEN_ALG", "access_token", "id_token"]
