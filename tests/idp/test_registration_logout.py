"""Dynamic client registration (RFC 7591) and RP-initiated logout."""

from __future__ import annotations

import requests

from tests.conftest import LiveServer
from tests.idp.conftest import Person
from tests.idp.helpers import AppSite, DpopKey, log_in, pkce, query_of
from tests.idp.test_code_flow import authorize, code_data, exchange


def test_registered_confidential_client_completes_the_flow(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session
) -> None:
    registered = requests.post(
        idp.url + ".oidc/register",
        json={"redirect_uris": [site.url + "callback"], "client_name": "Test App"},
        timeout=5,
    )
    assert registered.status_code == 201, registered.text
    client = registered.json()
    assert not client["client_id"].startswith("http") and client["client_secret"]
    code, verifier = authorize(browser, idp, site, person, client["client_id"])
    data = code_data(site, client["client_id"], code, verifier)
    wrong = exchange(idp, DpopKey(), {**data, "client_secret": "nope"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    good = exchange(idp, DpopKey(), {**data, "client_secret": client["client_secret"]})
    assert good.status_code == 200, good.text


def test_registration_refuses_bad_metadata(idp: LiveServer) -> None:
    for body, error in (
        ({"redirect_uris": ["http://example.org/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        (
            {"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "tls"},
            "invalid_client_metadata",
        ),
    ):
        answer = requests.post(idp.url + ".oidc/register", json=body, timeout=5)
        assert (answer.status_code, answer.json()["error"]) == (400, error)


def test_logout_with_id_token_hint_redirects_back(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session
) -> None:
    client_id = site.client_document()
    code, verifier = authorize(browser, idp, site, person, client_id)
    id_token = exchange(idp, DpopKey(), code_data(site, client_id, code, verifier)).json()["id_token"]
    answer = browser.get(
        idp.url + ".oidc/session/end",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": site.url + "bye", "state": "z"},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 303 and query_of(answer.headers["Location"]) == {"state": "z"}
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": site.url + "callback",
        "scope": "openid",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    }
    again = browser.get(idp.url + ".oidc/auth", params=params, allow_redirects=False, timeout=5)
    assert again.status_code == 303 and ".account/login" in again.headers["Location"]  # logged out


def test_logout_refuses_unregistered_targets_and_asks_without_hint(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session
) -> None:
    client_id = site.client_document()
    log_in(browser, idp.url, person.email, person.password)
    bad = browser.get(
        idp.url + ".oidc/session/end",
        params={"client_id": client_id, "post_logout_redirect_uri": "https://evil.example/"},
        allow_redirects=False,
        timeout=5,
    )
    assert bad.status_code == 400 and "Location" not in bad.headers
    ask = browser.get(idp.url + ".oidc/session/end", allow_redirects=False, timeout=5)
    assert ask.status_code == 200 and 'name="csrf_token"' in ask.text  # a confirmation form, no logout yet
