"""RFC 9449 §4.3 checks, one row each: a proof built to break exactly one rule fails on that rule."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from pod_server.auth.dpop import DpopError, DpopVerifier, access_token_hash, normalise_htu
from pod_server.auth.replay import MemoryReplayCache

URL = "https://pod.example/.oidc/token"
EC = ECKey.generate_key("P-256", private=True)
RSA = RSAKey.generate_key(2048, private=True)
ED = OKPKey.generate_key("Ed25519", private=True)


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def proof(key: Any = EC, alg: str = "ES256", header: dict[str, Any] | None = None, **claims: Any) -> str:
    head = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False), **(header or {})}
    body = {"htm": "POST", "htu": URL, "iat": int(time.time()), "jti": str(uuid.uuid4()), **claims}
    return sign(head, body, key, alg)


def sign(head: dict[str, Any], body: dict[str, Any], key: Any, alg: str) -> str:
    """Signed by hand, so the tests can build headers joserfc's encoder would refuse."""
    signing = f"{b64(head)}.{b64(body)}".encode()
    return signing.decode() + "." + b64(JWSRegistry.algorithms[alg].sign(signing, key))


def forged_signature() -> str:
    head, body, _ = proof().split(".")
    return f"{head}.{body}.{b64(b'0' * 64)}"


def swapped_key() -> str:
    other = ECKey.generate_key("P-256", private=True)
    head = {"typ": "dpop+jwt", "alg": "ES256", "jwk": EC.as_dict(private=False)}
    body = {"htm": "POST", "htu": URL, "iat": int(time.time()), "jti": "j"}
    return sign(head, body, other, "ES256")


def with_private_jwk() -> str:
    head = {"typ": "dpop+jwt", "alg": "ES256", "jwk": EC.as_dict(private=True)}
    return sign(head, {"htm": "POST", "htu": URL, "iat": int(time.time()), "jti": "p"}, EC, "ES256")


def hmac_proof() -> str:
    key = OctKey.generate_key(256)
    head = {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct"}}
    return sign(head, {"htm": "POST", "htu": URL, "iat": int(time.time()), "jti": "h"}, key, "HS256")


def unsigned() -> str:
    head = {"typ": "dpop+jwt", "alg": "none", "jwk": EC.as_dict(private=False)}
    return f"{b64(head)}.{b64({'htm': 'POST', 'htu': URL, 'iat': int(time.time()), 'jti': 'n'})}.AAAA"


@pytest.mark.parametrize(
    "headers,check",
    [
        ([], "header"),
        ([proof(), proof()], "header"),
        (["a.b"], "header"),
        (["!!!.###.$$$"], "header"),
        ([proof(header={"typ": "JWT"})], "typ"),
        ([hmac_proof()], "alg"),
        ([unsigned()], "alg"),
        ([proof(header={"jwk": None})], "jwk"),
        ([with_private_jwk()], "jwk"),
        ([proof(header={"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}})], "jwk"),
        ([forged_signature()], "signature"),
        ([swapped_key()], "signature"),
        ([proof(jti=None)], "claims"),
        ([proof(iat="yesterday")], "claims"),
        ([proof(htm="GET")], "htm"),
        ([proof(htu="https://pod.example/other")], "htu"),
        ([proof(htu="https://evil.example/.oidc/token")], "htu"),
        ([proof(iat=int(time.time()) - 3600)], "iat"),
        ([proof(iat=int(time.time()) + 3600)], "iat"),
        ([proof(ath="wrong")], "ath"),
    ],
)
def test_each_rule(headers: list[str], check: str) -> None:
    with pytest.raises(DpopError) as caught:
        DpopVerifier().verify(headers, method="POST", url=URL, access_token="the-token")
    assert caught.value.check == check
    assert check in caught.value.detail


@pytest.mark.parametrize("key,alg", [(EC, "ES256"), (RSA, "RS256"), (RSA, "PS256"), (ED, "EdDSA")])
def test_good_proofs_return_the_thumbprint(key: Any, alg: str) -> None:
    found = DpopVerifier().verify([proof(key, alg)], method="post", url=URL)
    assert found.jkt == key.thumbprint()


def test_a_proof_is_accepted_once() -> None:
    verifier = DpopVerifier(MemoryReplayCache())
    once = proof()
    verifier.verify([once], method="POST", url=URL)
    with pytest.raises(DpopError) as caught:
        verifier.verify([once], method="POST", url=URL)
    assert caught.value.check == "jti"


def test_a_failed_proof_does_not_burn_its_jti() -> None:
    verifier = DpopVerifier()
    with pytest.raises(DpopError):
        verifier.verify([proof(jti="same", htm="GET")], method="POST", url=URL)
    verifier.verify([proof(jti="same")], method="POST", url=URL)


def test_ath_is_checked_when_present_and_required_on_demand() -> None:
    verifier = DpopVerifier()
    verifier.verify([proof(ath=access_token_hash("tok"))], method="POST", url=URL, access_token="tok")
    verifier.verify([proof()], method="POST", url=URL, access_token="tok")
    with pytest.raises(DpopError) as caught:
        verifier.verify([proof()], method="POST", url=URL, access_token="tok", require_ath=True)
    assert caught.value.check == "ath"


@pytest.mark.parametrize(
    "a,b",
    [
        ("HTTPS://Pod.Example:443/.oidc/token", "https://pod.example/.oidc/token"),
        ("https://pod.example/a%7Eb?x=1#frag", "https://pod.example/a~b"),
        ("http://localhost:3000", "http://localhost:3000/"),
    ],
)
def test_htu_normalisation(a: str, b: str) -> None:
    assert normalise_htu(a) == normalise_htu(b)
