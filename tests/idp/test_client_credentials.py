"""Client credentials for scripts, the way @inrupt/solid-client-authn-node sends them."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
import requests

from tests.conftest import LiveServer
from tests.idp.conftest import Person
from tests.idp.helpers import DpopKey, verify_jwt


def basic(client_id: str, secret: str) -> str:
    # RFC 6749 §2.3.1, as solid-client-authn-node does: URL-encode each, then base64.
    return (
        "Basic " + base64.b64encode(f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()).decode()
    )


@pytest.fixture
def credential(idp: LiveServer, person: Person) -> tuple[str, str, Person]:
    made = idp.app.extensions["pod_server.accounts"].create_credential(
        person.account_id, person.webid, "script"
    )
    assert not made.client_id.startswith("http")  # a URL would switch Inrupt's library to the browser flow
    return made.client_id, made.client_secret, person


def token(idp: LiveServer, key: DpopKey | None, **kw: object) -> requests.Response:
    url = idp.url + ".oidc/token"
    headers = dict(kw.pop("headers", {}))  # type: ignore[call-overload]
    if key is not None:
        headers["DPoP"] = key.proof("POST", url)
    data = {"grant_type": "client_credentials", "scope": "openid offline_access webid", **kw.pop("data", {})}  # type: ignore[dict-item]
    return requests.post(url, data=data, headers=headers, timeout=5)


def test_basic_auth_gets_a_dpop_bound_token(idp: LiveServer, credential: tuple[str, str, Person]) -> None:
    client_id, secret, person = credential
    key = DpopKey()
    answer = token(idp, key, headers={"Authorization": basic(client_id, secret)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "DPoP" and body["expires_in"] > 0
    discovery = requests.get(idp.url + ".well-known/openid-configuration", timeout=5).json()
    _, claims = verify_jwt(body["access_token"], discovery["jwks_uri"])
    assert claims["iss"] == discovery["issuer"]
    assert claims["webid"] == person.webid and claims["client_id"] == client_id
    assert set(claims["aud"]) == {"solid", client_id} and claims["cnf"] == {"jkt": key.jkt}
    assert claims["sub"] and claims["exp"] > claims["iat"]


def test_client_secret_post_works_too(idp: LiveServer, credential: tuple[str, str, Person]) -> None:
    client_id, secret, _ = credential
    answer = token(idp, DpopKey(), data={"client_id": client_id, "client_secret": secret})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "case,status,error",
    [
        ("wrong secret", 401, "invalid_client"),
        ("no proof", 400, "invalid_dpop_proof"),
        ("no secret", 401, "invalid_client"),
    ],
)
def test_bad_client_credentials(
    idp: LiveServer, credential: tuple[str, str, Person], case: str, status: int, error: str
) -> None:
    client_id, secret, _ = credential
    if case == "wrong secret":
        answer = token(idp, DpopKey(), headers={"Authorization": basic(client_id, secret + "x")})
    elif case == "no proof":
        answer = token(idp, None, headers={"Authorization": basic(client_id, secret)})
    else:
        answer = token(idp, DpopKey(), data={"client_id": client_id})
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert "access_token" not in answer.json()
    assert token(idp, DpopKey(), headers={"Authorization": basic(client_id, secret)}).status_code == 200
