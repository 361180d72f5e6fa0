"""The whole Solid-OIDC login in headless Chromium: register, log in, consent, code on the app's
callback, token exchange with a DPoP proof, ID token and access token checked against the JWKS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from tests.browser import headless_chromium, wait_for
from tests.conftest import LiveServer
from tests.idp.helpers import AppSite, DpopKey, pkce, query_of, verify_jwt

pytestmark = pytest.mark.slow


@pytest.fixture
def driver() -> Iterator[Any]:
    yield from headless_chromium()


def test_browser_login_consent_and_token_exchange(idp: LiveServer, site: AppSite, driver: object) -> None:
    from selenium.webdriver.common.by import By

    web = driver  # type: ignore[assignment]
    email, password, pod = (
        f"b{uuid.uuid4().hex[:8]}@example.org",
        "a long enough password",
        "b" + uuid.uuid4().hex[:8],
    )
    # Register in the browser.
    web.get(idp.url + ".account/register")
    web.find_element(By.NAME, "email").send_keys(email)
    web.find_element(By.NAME, "password").send_keys(password)
    web.find_element(By.NAME, "pod").send_keys(pod)
    web.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: "/.account/register" not in web.current_url)
    web.delete_all_cookies()  # a fresh visit: the app's login must go through the login page
    webid = idp.app.extensions["pod_server.accounts"].find(email).webids[0]

    client_id = site.client_document(name="browser-app")
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": site.url + "callback",
        "scope": "openid webid offline_access",
        "state": "browser-state",
        "nonce": "browser-nonce",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    web.get(idp.url + ".oidc/auth?" + urlencode(params))
    wait_for(lambda: "/.account/login" in web.current_url)
    web.find_element(By.NAME, "email").send_keys(email)
    web.find_element(By.NAME, "password").send_keys(password)
    web.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: "/.oidc/auth" in web.current_url)
    assert web.find_element(By.ID, "client-name").text == "Test App"
    assert "127.0.0.1" in web.find_element(By.ID, "redirect-host").text
    web.find_element(By.ID, "allow").click()
    wait_for(lambda: web.current_url.startswith(site.url + "callback"))
    query = query_of(web.current_url)
    assert query["state"] == "browser-state" and query["iss"] == idp.url
    assert any(hit.startswith("/callback?code=") for hit in site.hits)  # the listener saw the redirect

    key = DpopKey()
    token_url = idp.url + ".oidc/token"
    answer = requests.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "code_verifier": verifier,
            "redirect_uri": site.url + "callback",
            "client_id": client_id,
        },
        headers={"DPoP": key.proof("POST", token_url)},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    jwks = requests.get(idp.url + ".well-known/openid-configuration", timeout=5).json()["jwks_uri"]
    _, id_claims = verify_jwt(body["id_token"], jwks)
    assert id_claims["webid"] == webid and id_claims["nonce"] == "browser-nonce"
    assert id_claims["iss"] == idp.url and id_claims["aud"] == client_id
    _, access = verify_jwt(body["access_token"], jwks)
    assert access["cnf"] == {"jkt": key.jkt} and access["webid"] == webid and "solid" in access["aud"]
