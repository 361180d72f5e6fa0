"""DPoP proof verification (RFC 9449), for the token endpoint and the resource server.

:meth:`DpopVerifier.verify` runs the checks of RFC 9449 §4.3 in order and returns the proof's
key thumbprint (RFC 7638), which a token binds as ``cnf.jkt`` (§6.1). Each failure raises
:class:`DpopError` whose ``check`` names the rule that failed (``header``, ``typ``, ``alg``,
``jwk``, ``signature``, ``claims``, ``htm``, ``htu``, ``iat``, ``jti``, ``ath``). The token
endpoint answers it as the OAuth error ``invalid_dpop_proof`` (§5); the resource server as 401.

Signatures are checked with joserfc's algorithm objects directly: its registry warns on every
``EdDSA`` use (RFC 9864 deprecates the name), and Solid clients still send ``EdDSA``.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

from pod_server.auth import compact
from pod_server.auth.replay import MemoryReplayCache, ReplayCache
from pod_server.errors import BadRequest

ALGORITHMS = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
"""Asymmetric algorithms accepted for proofs (RFC 9449 §4.3 point 5: not ``none``, not MAC)."""
_KEY_TYPES = {"ES256": "EC", "ES384": "EC", "RS256": "RSA", "PS256": "RSA", "EdDSA": "OKP"}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MAX_PROOF_BYTES = 8192
_MAX_JTI = 256
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/:@!$&'()*+,;=~-._"


class DpopError(BadRequest):
    """A DPoP proof failed one check. The message names the check and is safe to show."""

    title = "Invalid DPoP Proof"

    def __init__(self, detail: str, *, check: str) -> None:
        super().__init__(f"DPoP proof {check}: {detail}")
        self.check = check


@dataclass(frozen=True, slots=True)
class DpopProof:
    jkt: str
    """The RFC 7638 SHA-256 thumbprint of the proof's public key, base64url."""
    jwk: dict[str, Any]
    jti: str
    htm: str
    htu: str
    iat: int
    ath: str | None


def normalise_htu(url: str) -> str:
    """``url`` compared the RFC 9449 §4.3 way: scheme and host lower-case, default port dropped,
    percent-encoding normalised (RFC 3986 §6.2.2), no query or fragment."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    return urlunsplit((scheme, netloc, path, "", ""))


def access_token_hash(token: str) -> str:
    """The ``ath`` of a token: base64url(SHA-256(ASCII(token))) without padding (RFC 9449 §4.2)."""
    return _b64(hashlib.sha256(token.encode("ascii")).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass
class DpopVerifier:
    """Verifies proofs. ``max_age``: how old a proof's ``iat`` may be; ``leeway``: how far in the
    future (clock skew). Seen ``jti`` values are kept for ``max_age + leeway`` seconds."""

    replay: ReplayCache = field(default_factory=MemoryReplayCache)
    max_age: int = 300
    leeway: int = 60
    clock: Callable[[], float] = time.time
    algorithms: tuple[str, ...] = ALGORITHMS

    def verify(
        self,
        headers: Sequence[str],
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        require_ath: bool = False,
    ) -> DpopProof:
        """Check the ``DPoP`` header values of one request for ``method`` on ``url``, the request
        URL as seen from outside (built on the external base URL, so it holds behind a proxy).

        With ``access_token``, a present ``ath`` must match it; ``require_ath`` refuses a proof
        without one (RFC 9449 §4.3 point 11 for resource requests).
        """
        # RFC 9449 §4.3 point 1: exactly one DPoP HTTP request header field.
        if len(headers) != 1:
            raise DpopError(
                f"expected exactly one DPoP header, got {len(headers)}",
                check="header",
            )
        token = headers[0].strip()
        if len(token) > _MAX_PROOF_BYTES:
            raise DpopError(f"is longer than {_MAX_PROOF_BYTES} bytes", check="header")
        # Point 2: a single well-formed JWT.
        header, claims, signature, signing_input = compact.split(
            token, lambda reason: DpopError(reason, check="header")
        )
        # Point 4: typ is dpop+jwt.
        if header.get("typ") != "dpop+jwt":
            raise DpopError('the header "typ" must be "dpop+jwt"', check="typ")
        # Point 5: an asymmetric algorithm we support.
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise DpopError(f'"alg" must be one of {", ".join(self.algorithms)}', check="alg")
        # Point 7: the jwk header is a public key.
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise DpopError('the header must carry the public key as "jwk"', check="jwk")
        if _PRIVATE_MEMBERS & set(jwk):
            raise DpopError('"jwk" must not contain private or symmetric key material', check="jwk")
        if jwk.get("kty") != _KEY_TYPES[alg]:
            raise DpopError(f'"jwk" must be an {_KEY_TYPES[alg]} key for {alg}', check="jwk")
        try:
            key = JWKRegistry.import_key(jwk, jwk["kty"])
            jkt = key.thumbprint()
        except (JoseError, ValueError, TypeError, KeyError):
            raise DpopError('"jwk" is not a valid public key', check="jwk") from None
        # Point 6: the signature verifies with that key.
        try:
            valid = JWSRegistry.algorithms[alg].verify(signing_input, signature, key)
        except (JoseError, ValueError, TypeError):
            valid = False
        if not valid:
            raise DpopError("the signature does not verify with the embedded key", check="signature")
        # Point 3: the required claims are present and typed.
        jti, htm, htu, iat = (claims.get(name) for name in ("jti", "htm", "htu", "iat"))
        if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI:
            raise DpopError(f'"jti" must be a string of 1 to {_MAX_JTI} characters', check="claims")
        if not isinstance(htm, str) or not isinstance(htu, str):
            raise DpopError('"htm" and "htu" must be strings', check="claims")
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise DpopError('"iat" must be a number (seconds since the epoch)', check="claims")
        # Point 8: htm matches the method.
        if htm != method.upper():
            raise DpopError(f'"htm" is {htm!r} but the request method is {method.upper()}', check="htm")
        # Point 9: htu matches the URL, ignoring query and fragment.
        if normalise_htu(htu) != normalise_htu(url):
            raise DpopError(f'"htu" must be {normalise_htu(url)}', check="htu")
        # Point 11: ath matches the access token.
        ath = claims.get("ath")
        if ath is not None and not isinstance(ath, str):
            raise DpopError('"ath" must be a string', check="claims")
        if access_token is not None and ath is not None and ath != access_token_hash(access_token):
            raise DpopError('"ath" is not the hash of the access token sent with it', check="ath")
        if require_ath and ath is None:
            raise DpopError('"ath" (the hash of the access token) is required', check="ath")
        # Point 10 (iat within an acceptable window), then point 12 (jti not seen before), last so
        # that an invalid proof never takes a place in the replay cache.
        now = self.clock()
        if iat > now + self.leeway:
            raise DpopError('"iat" is in the future; check the client clock', check="iat")
        if iat < now - self.max_age:
            raise DpopError(f'"iat" is more than {self.max_age} seconds old; send a fresh proof', check="iat")
        if not self.replay.first_use(f"{jkt}:{jti}", self.max_age + self.leeway):
            raise DpopError('"jti" was used before: send a new proof for each request', check="jti")
        public = {k: v for k, v in jwk.items() if k not in _PRIVATE_MEMBERS}
        return DpopProof(jkt=jkt, jwk=public, jti=jti, htm=htm, htu=htu, iat=int(iat), ath=ath)


__all__ = ["ALGORITHMS", "DpopError", "DpopProof", "DpopVerifier", "access_token_hash", "normalise_htu"]
