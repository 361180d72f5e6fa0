"""A generic OAuth 2 / OIDC client library (authlib's requests client), not our code, completes the
code flow. The login and consent forms are driven with requests; authlib builds the authorization
URL with PKCE, checks the state on the way back and exchanges the code. DPoP is outside authlib, so
the test passes the proof header to ``fetch_token``."""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.conftest import LiveServer
from tests.idp.conftest import Person
from tests.idp.helpers import AppSite, DpopKey, consent, follow_to, log_in, verify_jwt


def test_authlib_client_completes_the_code_flow(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test server speaks http on 127.0.0.1
    discovery = requests.get(idp.url + ".well-known/openid-configuration", timeout=5).json()
    client_id = site.client_document(name="authlib-app")
    client = OAuth2Session(
        client_id,
        redirect_uri=site.url + "callback",
        scope="openid webid offline_access",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = "v" * 64
    url, _state = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce="abc"
    )
    assert log_in(browser, idp.url, person.email, person.password).status_code == 303
    page = follow_to(browser, url, site.url)
    answer = consent(browser, page) if page.status_code == 200 else page
    callback = answer.headers["Location"]
    key = DpopKey()
    token = client.fetch_token(
        discovery["token_endpoint"],
        authorization_response=callback,
        code_verifier=verifier,
        headers={"DPoP": key.proof("POST", discovery["token_endpoint"])},
    )
    assert token["token_type"] == "DPoP"
    _, id_claims = verify_jwt(token["id_token"], discovery["jwks_uri"])
    assert id_claims["webid"] == person.webid and id_claims["nonce"] == "abc"
    _, access = verify_jwt(token["access_token"], discovery["jwks_uri"])
    assert access["cnf"]["jkt"] == key.jkt and access["iss"] == discovery["issuer"]
