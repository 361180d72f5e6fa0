"""Tokens from other Solid-OIDC providers: a second live pod-server, and a throwaway issuer.

(a) Server 2 is the OpenID Provider for a WebID whose profile lives on server 1 and lists server 2
    as its ``solid:oidcIssuer``. Server 1 finds server 2's keys by discovery over HTTP and reads the
    profile from its own store.
(b) A tiny issuer built here serves discovery and a JWKS and signs its own tokens; the WebIDs live on
    it too (Turtle and JSON-LD), so server 1 fetches the profiles with its safe fetcher.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from joserfc.jwk import ECKey, RSAKey

from pod_server.accounts.webid_proof import WebIdVerifier, through
from tests.auth.test_resource_server import (
    Recorder,
    assert_refused,
    claims_for,
    dpop_headers,
    recording,
    send,
    serve,
    sign,
)
from tests.conftest import LiveServer
from tests.idp.conftest import make_person
from tests.idp.helpers import AppSite, DpopKey, app_site

TURTLE = {"Content-Type": "text/turtle"}


@pytest.fixture(scope="module")
def server1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("one"))


@pytest.fixture(scope="module")
def server2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def recorder(server1: LiveServer) -> Recorder:
    return recording(server1)


def test_second_server_is_the_issuer_for_a_webid_on_the_first(
    server1: LiveServer, server2: LiveServer, recorder: Recorder
) -> None:
    recording(server2)  # server 2 serves the WebID check's fetches only; let it answer them
    host = make_person(server1)
    card = host.webid.split("#")[0].rsplit("/", 1)[0] + "/dana"
    webid = card + "#me"
    turtle = f"<{webid}> <http://www.w3.org/ns/solid/terms#oidcIssuer> <{server2.url}> .\n"
    assert requests.put(card, data=turtle.encode(), headers=TURTLE, timeout=5).status_code == 201
    # Server 2: an account that proves control of that WebID (its profile names server 2), then a
    # client credential for it.
    directory = server2.app.extensions["pod_server.accounts"]
    # The directory's WebID check is built with a default fetcher (no 127.0.0.1); give it the server's.
    directory.verifier = WebIdVerifier(server2.url, through(server2.app.extensions["pod_server.fetch"]))
    account = directory.register("dana@example.org", "correct horse battery staple")
    directory.start_webid_link(account.id, webid)
    directory.verify_webid(account.id, webid)
    made = directory.create_credential(account.id, webid, "script")
    key = DpopKey()
    token_url = server2.url + ".oidc/token"
    answer = requests.post(
        token_url,
        auth=(made.client_id, made.client_secret),
        headers={"DPoP": key.proof("POST", token_url)},
        data={"grant_type": "client_credentials", "scope": "openid webid"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    access = answer.json()["access_token"]
    url = server1.fresh() + "from-two.txt"
    put = requests.put(
        url,
        data=b"hello",
        headers={**dpop_headers("PUT", url, access, key), "Content-Type": "text/plain"},
        timeout=5,
    )
    assert put.status_code == 201, put.text
    assert (recorder.seen[-1].webid, recorder.seen[-1].issuer) == (webid, server2.url)
    assert recorder.seen[-1].client_id == made.client_id
    # Server 1's own token for that WebID is refused: the profile trusts server 2 only.
    own = server1.app.extensions["pod_server.idp"].keys.current("ES256")
    token = sign(own.key, own.kid, claims_for(server1.url, webid, key.jkt))
    status, headers, body = send(
        "GET", server1.url, list(dpop_headers("GET", server1.url, token, key).items())
    )
    assert_refused(status, headers, body, "oidcIssuer")


# -- (b) a throwaway issuer ----------------------------------------------------------------------------


class Issuer:
    """Discovery, a JWKS and WebID profiles on a little site; signs its own tokens."""

    def __init__(self, site: AppSite) -> None:
        self.site = site
        self.url = site.url
        self.keys: dict[str, ECKey | RSAKey] = {"ec-1": ECKey.generate_key("P-256", private=True)}
        discovery = {
            "issuer": self.url,
            "jwks_uri": self.url + "jwks",
            "scopes_supported": ["openid", "webid"],
        }
        site.documents["/.well-known/openid-configuration"] = (
            200,
            {"Content-Type": "application/json"},
            json.dumps(discovery).encode(),
        )
        self.publish()

    def publish(self) -> None:
        jwks = {
            "keys": [{**k.as_dict(private=False), "kid": kid, "use": "sig"} for kid, k in self.keys.items()]
        }
        self.site.documents["/jwks"] = (200, {"Content-Type": "application/json"}, json.dumps(jwks).encode())

    def profile(self, name: str, *, issuers: list[str], json_ld: bool = False) -> str:
        webid = f"{self.url}{name}#me"
        if json_ld:
            doc = {
                "@id": webid,
                "http://www.w3.org/ns/solid/terms#oidcIssuer": [{"@id": i} for i in issuers],
            }
            self.site.documents[f"/{name}"] = (
                200,
                {"Content-Type": "application/ld+json"},
                json.dumps(doc).encode(),
            )
        else:
            objects = ", ".join(f"<{i}>" for i in issuers)
            body = f"<{webid}> <http://www.w3.org/ns/solid/terms#oidcIssuer> {objects} .\n".encode()
            self.site.documents[f"/{name}"] = (200, TURTLE, body)
        return webid

    def token(
        self, webid: str, key: DpopKey, kid: str = "ec-1", alg: str = "ES256", **changes: object
    ) -> str:
        return sign(self.keys[kid], kid, claims_for(self.url, webid, key.jkt, **changes), alg)

    def hits(self, path: str) -> int:
        return sum(1 for hit in self.site.hits if hit.split("?")[0] == path)


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with app_site() as site:
        yield Issuer(site)


def ok(server: LiveServer, token: str, key: DpopKey) -> requests.Response:
    return requests.get(server.url, headers=dpop_headers("GET", server.url, token, key), timeout=5)


@pytest.mark.parametrize("json_ld", [False, True], ids=["turtle profile", "json-ld profile"])
def test_throwaway_issuer_token_is_accepted(
    server1: LiveServer, recorder: Recorder, issuer: Issuer, json_ld: bool
) -> None:
    name = "erin-jsonld" if json_ld else "erin"
    webid = issuer.profile(name, issuers=["https://elsewhere.example/", issuer.url], json_ld=json_ld)
    key = DpopKey()
    token = issuer.token(webid, key)
    for _ in range(3):  # the signature is checked once; each request still needs its own proof
        assert ok(server1, token, key).status_code == 200
    assert recorder.seen[-1].webid == webid and recorder.seen[-1].issuer == issuer.url
    assert issuer.hits(f"/{name}") == 1  # the profile is cached
    assert issuer.hits("/.well-known/openid-configuration") == 1 and issuer.hits("/jwks") == 1


def test_rotated_key_is_found_by_one_refetch_and_a_flood_of_kids_is_not(
    server1: LiveServer, recorder: Recorder, issuer: Issuer
) -> None:
    webid = issuer.profile("frank", issuers=[issuer.url])
    key = DpopKey()
    assert ok(server1, issuer.token(webid, key), key).status_code == 200
    jwks_before = issuer.hits("/jwks")
    issuer.keys["rsa-2"] = RSAKey.generate_key(2048, private=True)
    issuer.publish()
    assert ok(server1, issuer.token(webid, key, kid="rsa-2", alg="RS256"), key).status_code == 200
    assert issuer.hits("/jwks") == jwks_before + 1
    # Unknown kids now: the last refetch was moments ago, so none of these reaches the issuer.
    for n in range(5):
        issuer.keys[f"bogus-{n}"] = ECKey.generate_key("P-256", private=True)
        status, headers, body = send(
            "GET",
            server1.url,
            list(dpop_headers("GET", server1.url, issuer.token(webid, key, kid=f"bogus-{n}"), key).items()),
        )
        assert_refused(status, headers, body, "signing key")
    assert issuer.hits("/jwks") == jwks_before + 1


def test_issuer_not_listed_in_the_webid_profile(server1: LiveServer, issuer: Issuer) -> None:
    # A WebID on server 1 (whose profile lists server 1) claimed by the throwaway issuer.
    person = make_person(server1)
    key = DpopKey()
    url = server1.fresh() + "x.txt"
    token = issuer.token(person.webid, key)
    status, headers, body = send("PUT", url, list(dpop_headers("PUT", url, token, key).items()), b"no")
    assert_refused(status, headers, body, "oidcIssuer")
    assert requests.get(url, timeout=5).status_code == 404
    # And a WebID on the issuer's site whose profile lists someone else.
    webid = issuer.profile("gina", issuers=["https://idp.example/"])
    status, headers, body = send(
        "PUT", url, list(dpop_headers("PUT", url, issuer.token(webid, key), key).items()), b"no"
    )
    assert_refused(status, headers, body, "oidcIssuer")
    assert requests.get(url, timeout=5).status_code == 404


def test_unreachable_webid_profile_is_refused(server1: LiveServer, issuer: Issuer) -> None:
    key = DpopKey()
    token = issuer.token(issuer.url + "nobody#me", key)
    status, headers, body = send(
        "GET", server1.url, list(dpop_headers("GET", server1.url, token, key).items())
    )
    assert_refused(status, headers, body, "404")
