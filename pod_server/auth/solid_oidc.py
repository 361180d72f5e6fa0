"""The resource server's authenticator: Solid-OIDC access tokens bound to DPoP proofs.

:class:`SolidOidcAuthenticator` implements :class:`~pod_server.auth.authenticator.Authenticator`.
For ``Authorization: DPoP <token>`` with one ``DPoP`` header it checks, in order:

1. the proof (RFC 9449 §4.3, :class:`DpopVerifier`) against this request's method and external URL;
   ``ath``, when present, must hash the token (§4.3 point 11). A proof without ``ath`` is refused
   in strict mode; otherwise accepted and counted, because @inrupt/solid-client-authn sends none;
2. the access token (:class:`AccessTokenVerifier`: signature by the issuer's key, ``exp``/``iat``,
   ``aud`` has ``solid``, a ``webid``);
3. the binding: ``cnf.jkt`` equals the proof key's thumbprint (RFC 9449 §6.1, §7.1);
4. the issuer is trusted for the WebID: its profile lists it as ``solid:oidcIssuer`` (Solid-OIDC
   §4.1, compared exactly: OIDC Core §2 and Discovery §4.3 make issuers case-sensitive strings that
   must be identical).

No ``Authorization`` header: the public. ``Bearer`` tokens (unbound, RFC 6750) only when
``allow_bearer``, and never a DPoP-bound one (RFC 9449 §7.2). Every failure raises
:class:`~pod_server.errors.InvalidToken` (401 with ``WWW-Authenticate: DPoP algs=...,
error="invalid_token"``). Tokens are never logged.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pod_server.access.credentials import PUBLIC, Credentials
from pod_server.auth.dpop import DpopError, DpopProof, DpopVerifier
from pod_server.auth.issuers import IssuerKeys, LocalKeys
from pod_server.auth.replay import ReplayCache
from pod_server.auth.tokens import AccessToken, AccessTokenVerifier
from pod_server.auth.transport import TransportPolicy
from pod_server.auth.webid import WebIdProfiles
from pod_server.config import Settings
from pod_server.errors import InvalidToken
from pod_server.fetch import SafeFetcher
from pod_server.store.resource_store import ResourceStore

log = logging.getLogger("pod_server.auth")

# RFC 6750 §2.1 / RFC 9449 §7.1: the credentials are a token68.
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass
class SolidOidcAuthenticator:
    dpop: DpopVerifier
    tokens: AccessTokenVerifier
    profiles: WebIdProfiles
    strict_dpop: bool = False
    allow_bearer: bool = False
    proofs_without_ath: int = 0
    """Proofs accepted without ``ath`` by this process (non-strict mode)."""
    on_proof_without_ath: Callable[[], None] = field(default=lambda: None, repr=False)
    """Told of each such proof: the Prometheus counter, when metrics are on."""
    _clients_without_ath: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def authenticate(
        self, method: str, url: str, authorization: str | None, dpop: Sequence[str]
    ) -> Credentials:
        if authorization is None or not authorization.strip():
            return PUBLIC
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if not token or not _TOKEN68.fullmatch(token):
            raise InvalidToken(
                "send Authorization: DPoP <access token> with a DPoP proof header", check="format"
            )
        scheme = scheme.lower()
        if scheme == "dpop":
            return self._dpop(method, url, token, dpop)
        if scheme == "bearer":
            return self._bearer(token)
        raise InvalidToken(
            f"the {scheme!r} authorization scheme is not supported: use DPoP (RFC 9449)", check="scheme"
        )

    def _dpop(self, method: str, url: str, token: str, headers: Sequence[str]) -> Credentials:
        # RFC 9110 §5.3: repeated field lines may arrive joined by commas (WSGI servers do so); a
        # compact JWS has no comma, so each comma-separated member is one DPoP header.
        proofs = [member.strip() for value in headers for member in value.split(",")]
        try:
            proof = self.dpop.verify(
                proofs, method=method, url=url, access_token=token, require_ath=self.strict_dpop
            )
        except DpopError as exc:
            raise InvalidToken(exc.detail, check=f"dpop-{exc.check}") from None
        found = self.tokens.verify(token)
        # RFC 9449 §7.1: the token's cnf.jkt is the thumbprint of the key that signed the proof.
        if found.jkt is None:
            raise InvalidToken("the access token is not DPoP-bound (it has no cnf.jkt)", check="cnf")
        if found.jkt != proof.jkt:
            raise InvalidToken(
                "the DPoP proof is signed by another key than the one the access token is bound to (cnf.jkt)",
                check="cnf",
            )
        self._trusted(found)
        if proof.ath is None:
            self._count_without_ath(found, proof)
        return Credentials(webid=found.webid, client_id=found.client_id, issuer=found.issuer)

    def _bearer(self, token: str) -> Credentials:
        if not self.allow_bearer:
            raise InvalidToken(
                "Bearer tokens are not accepted: send Authorization: DPoP <access token> with a DPoP "
                "proof (RFC 9449)",
                check="scheme",
            )
        found = self.tokens.verify(token)
        if found.jkt is not None:
            # RFC 9449 §7.2: a DPoP-bound token is not usable as a bearer token.
            raise InvalidToken("this access token is DPoP-bound: send it with the DPoP scheme", check="cnf")
        self._trusted(found)
        return Credentials(webid=found.webid, client_id=found.client_id, issuer=found.issuer)

    def _trusted(self, token: AccessToken) -> None:
        # Solid-OIDC §4.1: the WebID's profile lists the issuer as solid:oidcIssuer (exact match).
        if token.issuer not in self.profiles.issuers(token.webid):
            raise InvalidToken(
                f"the WebID profile of {token.webid} does not list {token.issuer} as its solid:oidcIssuer",
                check="issuer-trust",
            )

    def _count_without_ath(self, token: AccessToken, proof: DpopProof) -> None:
        client = token.client_id or "(no client_id)"
        self.on_proof_without_ath()
        with self._lock:
            self.proofs_without_ath += 1
            first = client not in self._clients_without_ath
            if first and len(self._clients_without_ath) < 10_000:
                self._clients_without_ath.add(client)
        if first:  # one line per client and process: the count tells the rest
            log.info(
                "accepted a DPoP proof without ath from client %s (RFC 9449 §4.3 wants it; "
                "--strict-dpop refuses such proofs)",
                client,
            )


def build_authenticator(
    settings: Settings,
    *,
    fetcher: SafeFetcher,
    replay: ReplayCache,
    store: ResourceStore | None,
    local_keys: LocalKeys | None,
    **overrides: Any,
) -> SolidOidcAuthenticator:
    """The authenticator for ``settings``: this server's issuer is ``settings.base_url`` and its
    keys ``local_keys``; WebIDs on this server are read from ``store``."""
    transport = TransportPolicy(frozenset(h.lower() for h in settings.allow_http_issuers))
    keys = IssuerKeys(fetcher, transport, local_issuer=settings.base_url, local=local_keys)
    return SolidOidcAuthenticator(
        dpop=DpopVerifier(replay),
        tokens=AccessTokenVerifier(keys, transport),
        profiles=WebIdProfiles(fetcher, store),
        strict_dpop=settings.strict_dpop,
        allow_bearer=settings.allow_bearer,
        **overrides,
    )


__all__ = ["SolidOidcAuthenticator", "build_authenticator"]
