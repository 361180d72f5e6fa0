"""The resource server checks every DPoP-bound access token strictly, over real HTTP.

The servers here run with a test access policy that allows everything and records the credentials
each request reached it with, so these tests see exactly what authentication decided, whatever
access control does. Each rejection is a 401 with ``WWW-Authenticate: DPoP algs=...,
error="invalid_token"``, and writes nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from pod_server.access.credentials import Credentials
from pod_server.access.modes import ALL_MODES, Permissions
from pod_server.ldp.model import Operation
from tests.conftest import LiveServer, _serve
from tests.idp.conftest import Person, make_person
from tests.idp.helpers import DpopKey

CHALLENGE = 'DPoP algs="ES256 ES384 RS256 PS256 EdDSA"'


# -- tools shared with test_foreign_issuer -----------------------------------------------------------


@dataclass
class Recorder:
    """An access policy that allows everything and remembers who asked."""

    seen: list[Credentials] = field(default_factory=list)

    def authorize(self, operation: Operation, credentials: Credentials) -> Permissions:
        self.seen.append(credentials)
        return Permissions(ALL_MODES, ALL_MODES)


def recording(server: LiveServer) -> Recorder:
    """Put a :class:`Recorder` in place of the server's access policy."""
    recorder = Recorder()
    services = server.app.extensions["pod_server.ldp"]
    server.app.extensions["pod_server.ldp"] = dataclasses.replace(services, access=recorder)
    return recorder


def serve(tmp: Any, **overrides: Any) -> Iterator[LiveServer]:
    """A provider-mode server whose fetcher may reach 127.0.0.1 (the other test servers)."""
    yield from _serve(
        tmp, single_pod=False, backend="filesystem", fetch_allow_hosts=("127.0.0.1",), **overrides
    )


def ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def client_credentials(server: LiveServer, person: Person, key: DpopKey) -> tuple[str, str]:
    """An access token from ``server``'s own provider (client credentials flow); (token, client_id)."""
    made = server.app.extensions["pod_server.accounts"].create_credential(
        person.account_id, person.webid, "t"
    )
    url = server.url + ".oidc/token"
    answer = requests.post(
        url,
        auth=(quote(made.client_id, safe=""), quote(made.client_secret, safe="")),
        headers={"DPoP": key.proof("POST", url)},
        data={"grant_type": "client_credentials", "scope": "openid webid"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"], made.client_id


def dpop_headers(method: str, url: str, token: str, key: DpopKey, *, with_ath: bool = True) -> dict[str, str]:
    extra: dict[str, Any] = {"ath": ath(token)} if with_ath else {}
    return {"Authorization": f"DPoP {token}", "DPoP": key.proof(method, url, **extra)}


def send(
    method: str, url: str, headers: list[tuple[str, str]], body: bytes | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request with exactly these header lines (repeated names allowed), on a new connection."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.putrequest(method, parts.path or "/", skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Type", "text/plain")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def assert_refused(status: int, headers: Any, body: bytes, check: str | None = None) -> None:
    assert status == 401, body
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith(CHALLENGE + ", "), challenge
    assert 'error="invalid_token"' in challenge and 'error_description="' in challenge
    detail = json.loads(body)["detail"]
    assert detail and "eyJ" not in detail  # says what failed, never echoes a token
    if check is not None:
        assert check in challenge, challenge


DROP = object()


def sign(signing_key: Any, kid: str, claims: dict[str, Any], alg: str = "ES256") -> str:
    return jwt.encode({"alg": alg, "kid": kid, "typ": "at+jwt"}, claims, signing_key, algorithms=[alg])


def claims_for(issuer: str, webid_: str, jkt: str | None, **changes: Any) -> dict[str, Any]:
    webid = webid_
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": ["solid", "https://app.example/id"],
        "sub": webid,
        "webid": webid,
        "client_id": "https://app.example/id",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "cnf": {"jkt": jkt},
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not DROP}


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("rs"))


@pytest.fixture(scope="module")
def recorder(rs: LiveServer) -> Recorder:
    return recording(rs)


@pytest.fixture(scope="module")
def alice(rs: LiveServer) -> Person:
    return make_person(rs)


@pytest.fixture(scope="module")
def key() -> DpopKey:
    return DpopKey()


@pytest.fixture(scope="module")
def token(rs: LiveServer, alice: Person, key: DpopKey) -> tuple[str, str]:
    return client_credentials(rs, alice, key)


def own_token(rs: LiveServer, webid_: str, jkt: str | None, **changes: Any) -> str:
    """A token signed with the server's own current key: its provider could have issued it."""
    current = rs.app.extensions["pod_server.idp"].keys.current("ES256")
    return sign(current.key, current.kid, claims_for(rs.url, webid_, jkt, **changes))


def absent(url: str) -> bool:
    return requests.get(url, timeout=5).status_code == 404


# -- accepted -----------------------------------------------------------------------------------------


def test_no_authorization_is_the_public(rs: LiveServer, recorder: Recorder) -> None:
    assert requests.get(rs.url, timeout=5).status_code == 200
    assert recorder.seen[-1].is_public


def test_own_provider_token_reaches_the_request(
    rs: LiveServer, recorder: Recorder, alice: Person, key: DpopKey, token: tuple[str, str]
) -> None:
    access, client_id = token
    url = rs.fresh() + "hello.txt"
    answer = requests.put(
        url, data=b"hi", headers={**dpop_headers("PUT", url, access, key), **TEXT}, timeout=5
    )
    assert answer.status_code == 201, answer.text
    assert recorder.seen[-1] == Credentials(webid=alice.webid, client_id=client_id, issuer=rs.url)
    # A fresh proof each time, the same token: accepted again (its signature was checked once).
    again = requests.get(url, headers=dpop_headers("GET", url, access, key), timeout=5)
    assert again.status_code == 200 and again.content == b"hi"
    assert recorder.seen[-1].webid == alice.webid


def test_origin_goes_with_the_credentials(
    rs: LiveServer, recorder: Recorder, alice: Person, key: DpopKey, token: tuple[str, str]
) -> None:
    headers = {**dpop_headers("GET", rs.url, token[0], key), "Origin": "https://app.example"}
    assert requests.get(rs.url, headers=headers, timeout=5).status_code == 200
    assert recorder.seen[-1].origin == "https://app.example" and recorder.seen[-1].webid == alice.webid


def test_proof_without_ath_is_accepted_and_counted(
    rs: LiveServer, recorder: Recorder, alice: Person, key: DpopKey, token: tuple[str, str]
) -> None:
    authenticator = rs.app.extensions["pod_server.ldp"].authenticator
    before = authenticator.proofs_without_ath
    headers = dpop_headers("GET", rs.url, token[0], key, with_ath=False)
    assert requests.get(rs.url, headers=headers, timeout=5).status_code == 200
    assert recorder.seen[-1].webid == alice.webid
    assert authenticator.proofs_without_ath == before + 1


def test_proofs_without_ath_show_in_the_metrics(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Issue 4: a proof without ath is accepted by default and counted in a log line and a metric."""
    from pod_server.http.metrics import PATH

    # The memory backend keeps prometheus-client in single-process mode (multiprocess mode is
    # process-wide, and would leak into the other metrics tests of this pytest process).
    for server in _serve(
        tmp_path_factory.mktemp("metrics"),
        single_pod=False,
        backend="memory",
        metrics=True,
        fetch_allow_hosts=("127.0.0.1",),
    ):
        person = make_person(server)
        proof_key = DpopKey()
        access_token, _ = client_credentials(server, person, proof_key)
        headers = dpop_headers("GET", person.webid.split("#")[0], access_token, proof_key, with_ath=False)
        assert requests.get(person.webid.split("#")[0], headers=headers, timeout=5).status_code == 200
        scrape = requests.get(server.url + PATH.lstrip("/"), timeout=5).text
        assert "pod_server_dpop_proofs_without_ath_total 1.0" in scrape


def test_proof_htu_may_carry_a_query(
    rs: LiveServer, recorder: Recorder, key: DpopKey, token: tuple[str, str]
) -> None:
    # RFC 9449 §4.3 point 9: htu is compared without query and fragment.
    url = rs.url + "?x=1"
    assert requests.get(url, headers=dpop_headers("GET", rs.url, token[0], key), timeout=5).status_code == 200
    assert not recorder.seen[-1].is_public


# -- refused: one row per check -------------------------------------------------------------------------

TEXT = {"Content-Type": "text/plain"}


def _forged(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    current = rs.app.extensions["pod_server.idp"].keys.current("ES256")
    other = ECKey.generate_key("P-256", private=True)
    token = sign(other, current.kid, claims_for(rs.url, alice.webid, key.jkt))
    return _with(token, key, "PUT", url)


def _with(token: str, key: DpopKey, method: str, url: str, **proof: Any) -> list[tuple[str, str]]:
    return [("Authorization", f"DPoP {token}"), ("DPoP", key.proof(method, url, ath=ath(token), **proof))]


def _claims(**changes: Any) -> Callable[[LiveServer, Person, DpopKey, str], list[tuple[str, str]]]:
    def build(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
        return _with(own_token(rs, alice.webid, key.jkt, **changes), key, "PUT", url)

    return build


def _proof(**proof: Any) -> Callable[[LiveServer, Person, DpopKey, str], list[tuple[str, str]]]:
    def build(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
        token = own_token(rs, alice.webid, key.jkt)
        options = dict(proof)
        method = options.pop("method", "PUT")
        target = options.pop("htu", url)
        return _with(token, key, method, target, **options)

    return build


def _two_proofs(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    token = own_token(rs, alice.webid, key.jkt)
    return [*_with(token, key, "PUT", url), ("DPoP", key.proof("PUT", url, ath=ath(token)))]


def _no_proof(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    return [("Authorization", f"DPoP {own_token(rs, alice.webid, key.jkt)}")]


def _private_jwk(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    token = own_token(rs, alice.webid, key.jkt)
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.key.as_dict(private=True)}
    claims = {"htm": "PUT", "htu": url, "iat": int(time.time()), "jti": uuid.uuid4().hex, "ath": ath(token)}
    return [
        ("Authorization", f"DPoP {token}"),
        ("DPoP", jwt.encode(header, claims, key.key, algorithms=["ES256"])),
    ]


def _hs256(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    secret = OctKey.generate_key(256)
    token = own_token(rs, alice.webid, secret.thumbprint())
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": secret.as_dict(private=False)}
    claims = {"htm": "PUT", "htu": url, "iat": int(time.time()), "jti": uuid.uuid4().hex, "ath": ath(token)}
    return [
        ("Authorization", f"DPoP {token}"),
        ("DPoP", jwt.encode(header, claims, secret, algorithms=["HS256"])),
    ]


def _http_issuer(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    signer = ECKey.generate_key("P-256", private=True)
    token = sign(signer, "k1", claims_for("http://issuer.example/", alice.webid, key.jkt))
    return _with(token, key, "PUT", url)


def _http_webid(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    return _with(own_token(rs, "http://people.example/card#me", key.jkt), key, "PUT", url)


def _bearer(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {own_token(rs, alice.webid, None, cnf=DROP)}")]


def _basic(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    return [("Authorization", "Basic dXNlcjpwYXNz")]


def _not_a_jwt(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    return [("Authorization", "DPoP not-a-token"), ("DPoP", key.proof("PUT", url, ath=ath("not-a-token")))]


def _ath_mismatch(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    token = own_token(rs, alice.webid, key.jkt)
    return [("Authorization", f"DPoP {token}"), ("DPoP", key.proof("PUT", url, ath=ath("another token")))]


def _unknown_kid(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    signer = ECKey.generate_key("P-256", private=True)
    return _with(sign(signer, "no-such-kid", claims_for(rs.url, alice.webid, key.jkt)), key, "PUT", url)


def _other_key(rs: LiveServer, alice: Person, key: DpopKey, url: str) -> list[tuple[str, str]]:
    return _with(own_token(rs, alice.webid, DpopKey().jkt), key, "PUT", url)


NOW = time.time()

REFUSALS: list[tuple[str, Callable[[LiveServer, Person, DpopKey, str], list[tuple[str, str]]], str]] = [
    ("forged signature", _forged, "signature"),
    ("signed with a key the issuer does not have", _unknown_kid, "signing key"),
    ("expired token", _claims(iat=int(NOW) - 7200, exp=int(NOW) - 3600), "expired"),
    ("token issued in the future", _claims(iat=int(NOW) + 3600, exp=int(NOW) + 7200), "future"),
    ("token not valid yet (nbf)", _claims(nbf=int(NOW) + 3600), "not valid yet"),
    ("token without exp", _claims(exp=DROP), "exp"),
    ("wrong aud", _claims(aud=["https://app.example/id"]), "aud"),
    ("aud missing", _claims(aud=DROP), "aud"),
    ("missing webid", _claims(webid=DROP), "webid"),
    ("token not bound (no cnf)", _claims(cnf=DROP), "cnf"),
    ("cnf.jkt of another key", _other_key, "cnf.jkt"),
    ("proof for another URL", _proof(htu="http://127.0.0.1:1/elsewhere"), "htu"),
    ("proof for another method", _proof(method="GET"), "htm"),
    ("expired proof", _proof(iat=NOW - 600), "iat"),
    ("proof from the future", _proof(iat=NOW + 600), "iat"),
    ("ath of another token", _ath_mismatch, "ath"),
    ("two DPoP headers", _two_proofs, "exactly one"),
    ("no DPoP header", _no_proof, "exactly one"),
    ("proof with private key parts", _private_jwk, "private"),
    ("HS256 proof", _hs256, "alg"),
    ("http issuer on a non-loopback host", _http_issuer, "https"),
    ("http WebID on a non-loopback host", _http_webid, "https"),
    ("Bearer without the setting", _bearer, "Bearer"),
    ("unknown scheme", _basic, "scheme"),
    ("token that is not a JWT", _not_a_jwt, "JWT"),
]


@pytest.mark.parametrize("case,build,check", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_and_nothing_written(
    rs: LiveServer,
    recorder: Recorder,
    alice: Person,
    key: DpopKey,
    case: str,
    build: Callable[[LiveServer, Person, DpopKey, str], list[tuple[str, str]]],
    check: str,
) -> None:
    url = rs.fresh() + "x.txt"
    seen = len(recorder.seen)
    status, headers, body = send("PUT", url, build(rs, alice, key, url), b"must not be written")
    assert_refused(status, headers, body, check)
    assert len(recorder.seen) == seen  # refused before access control: no operation ran
    assert absent(url)


def test_replayed_proof_is_refused_and_writes_nothing(
    rs: LiveServer, alice: Person, key: DpopKey, token: tuple[str, str]
) -> None:
    url = rs.fresh() + "once.txt"
    headers = dpop_headers("PUT", url, token[0], key)
    first = requests.put(url, data=b"first", headers={**headers, **TEXT}, timeout=5)
    assert first.status_code == 201, first.text
    status, answer, body = send("PUT", url, list(headers.items()), b"second")
    assert_refused(status, answer, body, "jti")
    assert requests.get(url, timeout=5).content == b"first"


def test_a_token_past_its_expiry_is_refused_even_after_it_was_accepted(
    rs: LiveServer, recorder: Recorder, alice: Person, key: DpopKey
) -> None:
    # Accepted once (and so remembered), then its exp passes: the remembered claims do not outlive it.
    short = own_token(rs, alice.webid, key.jkt, exp=int(time.time()) - 55)  # inside the 60 s leeway
    assert requests.get(rs.url, headers=dpop_headers("GET", rs.url, short, key), timeout=5).status_code == 200
    verifier = rs.app.extensions["pod_server.ldp"].authenticator.tokens
    verifier.clock = lambda: time.time() + 10
    try:
        status, headers, body = send("GET", rs.url, list(dpop_headers("GET", rs.url, short, key).items()))
    finally:
        verifier.clock = time.time
    assert_refused(status, headers, body, "expired")


def test_webid_profile_must_list_the_issuer(rs: LiveServer, recorder: Recorder, key: DpopKey) -> None:
    # A WebID on this server whose profile lists another issuer: our own token for it is refused.
    bob = make_person(rs)
    card = bob.webid.split("#")[0]
    turtle = f"<{bob.webid}> <http://www.w3.org/ns/solid/terms#oidcIssuer> <https://idp.example/> .\n"
    put = requests.put(card, data=turtle.encode(), headers={"Content-Type": "text/turtle"}, timeout=5)
    assert put.status_code == 205 or put.status_code < 300, put.text
    url = rs.fresh() + "x.txt"
    status, headers, body = send("PUT", url, _with(own_token(rs, bob.webid, key.jkt), key, "PUT", url), b"no")
    assert_refused(status, headers, body, "oidcIssuer")
    assert absent(url)
    # Listing it again (the store's change event refreshes the cached profile at once) lets it in.
    turtle = f"<{bob.webid}> <http://www.w3.org/ns/solid/terms#oidcIssuer> <{rs.url}> .\n"
    requests.put(card, data=turtle.encode(), headers={"Content-Type": "text/turtle"}, timeout=5)
    headers2 = dict(_with(own_token(rs, bob.webid, key.jkt), key, "GET", rs.url))
    assert requests.get(rs.url, headers=headers2, timeout=5).status_code == 200
    assert recorder.seen[-1].webid == bob.webid


def test_issuer_is_compared_exactly(rs: LiveServer, recorder: Recorder, key: DpopKey) -> None:
    # Solid-OIDC has no rule allowing a trailing-slash difference; OIDC compares issuers as strings.
    carol = make_person(rs)
    card = carol.webid.split("#")[0]
    turtle = f"<{carol.webid}> <http://www.w3.org/ns/solid/terms#oidcIssuer> <{rs.url.rstrip('/')}> .\n"
    requests.put(card, data=turtle.encode(), headers={"Content-Type": "text/turtle"}, timeout=5)
    status, headers, body = send(
        "GET", rs.url, _with(own_token(rs, carol.webid, key.jkt), key, "GET", rs.url)
    )
    assert_refused(status, headers, body, "oidcIssuer")


# -- strict mode and Bearer, as operators set them ----------------------------------------------------------


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("strict"), strict_dpop=True, allow_bearer=True)


def test_strict_mode_refuses_a_proof_without_ath(strict: LiveServer) -> None:
    recorder = recording(strict)
    person, key = make_person(strict), DpopKey()
    access, _ = client_credentials(strict, person, key)
    url = strict.fresh() + "s.txt"
    headers = dpop_headers("PUT", url, access, key, with_ath=False)
    status, answer, body = send("PUT", url, list(headers.items()), b"no")
    assert_refused(status, answer, body, "ath")
    assert absent(url)
    ok = requests.put(url, data=b"yes", headers={**dpop_headers("PUT", url, access, key), **TEXT}, timeout=5)
    assert ok.status_code == 201 and recorder.seen[-1].webid == person.webid


def test_bearer_when_allowed_takes_only_unbound_tokens(strict: LiveServer) -> None:
    recorder = recording(strict)
    person = make_person(strict)
    unbound = own_token(strict, person.webid, None, cnf=DROP)
    answer = requests.get(strict.url, headers={"Authorization": f"Bearer {unbound}"}, timeout=5)
    assert answer.status_code == 200 and recorder.seen[-1].webid == person.webid
    bound = own_token(strict, person.webid, DpopKey().jkt)
    status, headers, body = send("GET", strict.url, [("Authorization", f"Bearer {bound}")])
    assert_refused(status, headers, body, "DPoP-bound")


def test_a_plain_401_carries_the_dpop_challenge() -> None:
    from pod_server.errors import Unauthorized

    assert Unauthorized("log in").headers["WWW-Authenticate"] == CHALLENGE
    custom = Unauthorized("metrics", headers={"WWW-Authenticate": 'Bearer realm="x"'})
    assert custom.headers["WWW-Authenticate"] == 'Bearer realm="x"'
