"""The signing keys of OpenID Providers, for checking access-token signatures.

:class:`IssuerKeys` ``.find(issuer, kid, alg)`` answers the public key an issuer signs with:

- for this server's own issuer, from its key store (:class:`pod_server.idp.keys.KeyStore`), without
  HTTP, so a worker never calls itself;
- for any other issuer, from the JWKS found through OpenID Connect Discovery 1.0 §4
  (``{issuer}/.well-known/openid-configuration`` -> ``jwks_uri``), fetched with the safe fetcher
  and cached for ``ttl`` seconds. A ``kid`` the cached set lacks triggers one refetch (keys
  rotate), at most once per ``refetch_interval`` per issuer, so a flood of made-up ``kid`` values
  cannot hammer the issuer. A failed discovery is remembered for ``failure_ttl`` seconds.

Every failure raises :class:`~pod_server.errors.InvalidToken`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from pod_server.auth.transport import TransportPolicy
from pod_server.errors import InvalidToken, PodError
from pod_server.fetch import SafeFetcher

KEY_TYPES = {
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "EdDSA": "OKP",
}
"""Asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037) accepted on access tokens, with their key type.
``none`` and the HMAC algorithms are never accepted: anyone could forge them."""

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class LocalKeys(Protocol):
    """This server's own signing keys (:class:`pod_server.idp.keys.KeyStore` fits)."""

    def active(self) -> Sequence[Any]:
        """Every key in use, each with ``kid``, ``alg`` and ``key``."""
        ...

    def refresh(self) -> Sequence[Any]: ...


@dataclass(frozen=True, slots=True)
class PublicKey:
    kid: str | None
    kty: str
    alg: str | None
    key: Key

    def fits(self, kid: str | None, alg: str) -> bool:
        if kid is not None and self.kid != kid:
            return False
        return self.kty == KEY_TYPES[alg] and (self.alg is None or self.alg == alg)


@dataclass
class _KeySet:
    keys: tuple[PublicKey, ...]
    expires: float
    refetched_at: float
    error: str | None = None


def public_keys(jwks: object) -> tuple[PublicKey, ...]:
    """The signing keys of a JWKS document (RFC 7517 §5); private members are dropped, keys for
    encryption (``use`` other than ``sig``) and keys that do not import are skipped."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise InvalidToken('the issuer\'s JWKS is not a JSON object with a "keys" list', check="jwks")
    found: list[PublicKey] = []
    for jwk in jwks["keys"]:
        if (
            not isinstance(jwk, dict)
            or jwk.get("use", "sig") != "sig"
            or jwk.get("kty") not in {"EC", "RSA", "OKP"}
        ):
            continue
        public = {k: v for k, v in jwk.items() if k not in _PRIVATE_MEMBERS}
        try:
            key = JWKRegistry.import_key(public, public["kty"])
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        kid, alg = jwk.get("kid"), jwk.get("alg")
        found.append(
            PublicKey(
                kid if isinstance(kid, str) else None,
                public["kty"],
                alg if isinstance(alg, str) else None,
                key,
            )
        )
    return tuple(found)


@dataclass
class IssuerKeys:
    """Finds issuers' signing keys. Thread-safe; share one per process."""

    fetcher: SafeFetcher
    transport: TransportPolicy = field(default_factory=TransportPolicy)
    local_issuer: str | None = None
    local: LocalKeys | None = None
    ttl: float = 600.0
    refetch_interval: float = 30.0
    failure_ttl: float = 10.0
    max_issuers: int = 1000
    clock: Callable[[], float] = time.monotonic
    _sets: OrderedDict[str, _KeySet] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _fetching: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _local_refreshed: float = field(default=float("-inf"), repr=False)

    def find(self, issuer: str, kid: str | None, alg: str) -> Key:
        """The key ``issuer`` signs ``alg`` tokens with under ``kid``; raise InvalidToken if none."""
        if alg not in KEY_TYPES:
            raise InvalidToken(f"the access token's alg must be one of {', '.join(KEY_TYPES)}", check="alg")
        if self.local is not None and issuer == self.local_issuer:
            return self._find_local(kid, alg)
        return self._find_remote(issuer, kid, alg)

    # -- this server's own keys --------------------------------------------------------------
    def _find_local(self, kid: str | None, alg: str) -> Key:
        assert self.local is not None
        found = self._match(self._local_keys(self.local.active()), kid, alg)
        if found is None and self._may_refetch_local():
            found = self._match(self._local_keys(self.local.refresh()), kid, alg)
        if found is None:
            raise InvalidToken(f"this server has no signing key {kid!r} for {alg}", check="kid")
        return found

    def _may_refetch_local(self) -> bool:
        now = self.clock()
        with self._lock:
            if now - self._local_refreshed < self.refetch_interval:
                return False
            self._local_refreshed = now
            return True

    @staticmethod
    def _local_keys(keys: Sequence[Any]) -> tuple[PublicKey, ...]:
        return tuple(PublicKey(k.kid, k.key.key_type, k.alg, k.key) for k in keys)

    # -- other issuers -----------------------------------------------------------------------
    def _find_remote(self, issuer: str, kid: str | None, alg: str) -> Key:
        self.transport.check(issuer, "issuer")
        entry = self._cached(issuer)
        if entry is None:
            entry = self._load(issuer, None)
        found = None if entry.error else self._match(entry.keys, kid, alg)
        if found is None and entry.error is None and kid is not None:
            # A kid we have not seen: the issuer may have rotated its keys. One refetch, rate-limited.
            entry = self._load(issuer, entry)
            found = None if entry.error else self._match(entry.keys, kid, alg)
        if entry.error is not None:
            raise InvalidToken(entry.error, check="jwks")
        if found is None:
            raise InvalidToken(
                f"the issuer {issuer} publishes no {alg} signing key"
                + (f" with kid {kid!r}" if kid is not None else ""),
                check="kid",
            )
        return found

    @staticmethod
    def _match(keys: tuple[PublicKey, ...], kid: str | None, alg: str) -> Key | None:
        return next((k.key for k in keys if k.fits(kid, alg)), None)

    def _cached(self, issuer: str) -> _KeySet | None:
        with self._lock:
            entry = self._sets.get(issuer)
            if entry is not None and entry.expires > self.clock():
                self._sets.move_to_end(issuer)
                return entry
        return None

    def _load(self, issuer: str, stale: _KeySet | None) -> _KeySet:
        """Fetch ``issuer``'s keys, unless another thread just did or (for a refetch) the last
        fetch was less than ``refetch_interval`` ago; one fetch per issuer at a time."""
        with self._lock:
            gate = self._fetching.setdefault(issuer, threading.Lock())
        with gate:
            current = self._cached(issuer)
            if current is not None and current is not stale:
                return current  # another thread fetched while we waited
            if stale is not None and self.clock() - stale.refetched_at < self.refetch_interval:
                return stale
            now = self.clock()
            # Only a refetch for an unknown kid starts the refetch_interval; a first fetch does not.
            refetched = now if stale is not None else float("-inf")
            try:
                entry = _KeySet(self._fetch(issuer), now + self.ttl, refetched)
            except InvalidToken as exc:
                entry = _KeySet((), now + self.failure_ttl, refetched, exc.detail)
            with self._lock:
                self._sets[issuer] = entry
                self._sets.move_to_end(issuer)
                while len(self._sets) > self.max_issuers:
                    evicted, _ = self._sets.popitem(last=False)
                    self._fetching.pop(evicted, None)
            return entry

    def _fetch(self, issuer: str) -> tuple[PublicKey, ...]:
        # OpenID Connect Discovery 1.0 §4: the issuer, without a trailing slash, plus the well-known path.
        discovery = self._json(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery")
        # Discovery §4.3: the issuer in the document MUST be identical to the one it was fetched for.
        if discovery.get("issuer") != issuer:
            raise InvalidToken(
                f"the discovery document of {issuer} names a different issuer", check="discovery"
            )
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise InvalidToken(f"the discovery document of {issuer} has no jwks_uri", check="discovery")
        self.transport.check(jwks_uri, "jwks_uri")
        return public_keys(self._json(jwks_uri, "jwks"))

    def _json(self, url: str, what: str) -> dict[str, Any]:
        try:
            fetched = self.fetcher.get(url, accept="application/json", cache=False)
        except PodError as exc:
            raise InvalidToken(
                f"the issuer's {what} could not be fetched: {exc.detail}", check=what
            ) from None
        if fetched.status != 200:
            raise InvalidToken(f"{url} answered {fetched.status}; expected 200", check=what)
        try:
            value = json.loads(fetched.body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidToken(f"{url} is not JSON", check=what) from None
        if not isinstance(value, dict):
            raise InvalidToken(f"{url} is not a JSON object", check=what)
        return value


__all__ = ["KEY_TYPES", "IssuerKeys", "LocalKeys", "PublicKey", "public_keys"]
