"""Access tokens: JWTs signed by a Solid-OIDC provider, checked by the resource server.

:meth:`AccessTokenVerifier.verify` checks, in order (each failure an
:class:`~pod_server.errors.InvalidToken` naming the check):

1. the token is a compact JWS (RFC 7515 §7.1) with an asymmetric ``alg`` (never ``none`` or HMAC);
2. ``exp`` is in the future and ``iat`` (and ``nbf``, if present) not in the future (RFC 7519
   §4.1.4-6), with ``leeway`` seconds for clock skew;
3. ``aud`` includes ``"solid"`` (Solid-OIDC §8.1);
4. it carries a ``webid`` and an ``iss``, both https (or loopback/allowed hosts, Solid-OIDC §10.1);
5. ``cnf.jkt``, when present, is a string (RFC 9449 §6.1; the authenticator compares it with the
   proof's key);
6. the signature verifies with the issuer's key for the token's ``kid`` (:class:`IssuerKeys`).

A token that passed is remembered (keyed by its SHA-256) until it expires, so a burst of requests
with one token checks its signature once; ``exp`` is checked again on every use. Tokens that fail
are never remembered.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

from pod_server.auth import compact
from pod_server.auth.issuers import KEY_TYPES, IssuerKeys
from pod_server.auth.transport import TransportPolicy
from pod_server.errors import InvalidToken

MAX_TOKEN_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The claims of a verified access token that the server uses."""

    issuer: str
    webid: str
    client_id: str | None
    jkt: str | None
    """``cnf.jkt``: the thumbprint of the key the token is bound to (``None``: an unbound token)."""
    expires: float
    issued_at: float


def _number(claims: dict[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidToken(f"the access token needs a numeric {name!r} claim", check=name)
    return float(value)


@dataclass
class AccessTokenVerifier:
    keys: IssuerKeys
    transport: TransportPolicy = field(default_factory=TransportPolicy)
    leeway: int = 60
    clock: Callable[[], float] = time.time
    cache_entries: int = 10_000
    _verified: OrderedDict[bytes, AccessToken] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def verify(self, token: str) -> AccessToken:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken(f"the access token is longer than {MAX_TOKEN_BYTES} bytes", check="format")
        digest = hashlib.sha256(token.encode("ascii", "replace")).digest()
        now = self.clock()
        with self._lock:
            known = self._verified.get(digest)
            if known is not None:
                self._verified.move_to_end(digest)
        if known is not None:
            if known.expires <= now - self.leeway:
                with self._lock:
                    self._verified.pop(digest, None)
                raise InvalidToken("the access token has expired; get a new one", check="exp")
            return known
        found = self._check(token, now)
        with self._lock:
            self._verified[digest] = found
            while len(self._verified) > self.cache_entries:
                self._verified.popitem(last=False)
        return found

    def _check(self, token: str, now: float) -> AccessToken:
        header, claims, signature, signing_input = compact.split(
            token, lambda reason: InvalidToken(f"the access token {reason}", check="format")
        )
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in KEY_TYPES:
            raise InvalidToken(f"the access token's alg must be one of {', '.join(KEY_TYPES)}", check="alg")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken('the access token\'s "kid" must be a string', check="kid")
        # RFC 7519 §4.1.4-6: exp, nbf and iat, with a little leeway for clock skew.
        expires = _number(claims, "exp", required=True)
        issued_at = _number(claims, "iat", required=True)
        not_before = _number(claims, "nbf", required=False)
        assert expires is not None and issued_at is not None
        if expires <= now - self.leeway:
            raise InvalidToken("the access token has expired; get a new one", check="exp")
        if issued_at > now + self.leeway:
            raise InvalidToken("the access token is issued in the future (iat); check clocks", check="iat")
        if not_before is not None and not_before > now + self.leeway:
            raise InvalidToken("the access token is not valid yet (nbf)", check="nbf")
        # Solid-OIDC §8.1: the audience includes "solid".
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or "solid" not in audiences:
            raise InvalidToken('the access token\'s "aud" must include "solid"', check="aud")
        webid, issuer = claims.get("webid"), claims.get("iss")
        if not isinstance(webid, str) or not webid:
            raise InvalidToken('the access token has no "webid" claim', check="webid")
        if not isinstance(issuer, str) or not issuer:
            raise InvalidToken('the access token has no "iss" claim', check="iss")
        self.transport.check(issuer, "issuer")
        self.transport.check(webid, "WebID")
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if cnf is not None and not isinstance(jkt, str):
            raise InvalidToken('the access token\'s "cnf" must hold a "jkt" string', check="cnf")
        client_id = claims.get("client_id", claims.get("azp"))
        if client_id is not None and not isinstance(client_id, str):
            raise InvalidToken('the access token\'s "client_id" must be a string', check="client_id")
        # Last: the signature, which may need the issuer's keys from the network.
        key = self.keys.find(issuer, kid, alg)
        try:
            valid = JWSRegistry.algorithms[alg].verify(signing_input, signature, key)
        except (JoseError, ValueError, TypeError):
            valid = False
        if not valid:
            raise InvalidToken("the access token's signature does not verify", check="signature")
        return AccessToken(issuer, webid, client_id, jkt, expires, issued_at)


__all__ = ["MAX_TOKEN_BYTES", "AccessToken", "AccessTokenVerifier"]
