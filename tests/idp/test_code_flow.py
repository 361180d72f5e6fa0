"""The authorization-code + PKCE + DPoP flow over HTTP, driven with requests, and its failures.

Every bad request gets its OAuth error, and nothing else changes: the code or refresh token it
touched still works afterwards (except where the RFCs revoke on replay)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from tests.conftest import LiveServer
from tests.idp.conftest import Person
from tests.idp.helpers import AppSite, DpopKey, consent, follow_to, log_in, pkce, query_of, verify_jwt


def authorize(
    http: requests.Session, idp: LiveServer, site: AppSite, person: Person, client_id: str, **extra: str
) -> tuple[str, str]:
    """Log in, consent, and return (code, verifier)."""
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": site.url + "callback",
        "scope": "openid webid offline_access",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    assert log_in(http, idp.url, person.email, person.password).status_code == 303
    page = follow_to(http, idp.url + ".oidc/auth?" + urlencode(params), site.url)
    if page.status_code == 200:
        assert "Test App" in page.text and "127.0.0.1" in page.text  # client_name and redirect host
        page = consent(http, page)
    assert page.status_code == 303, page.text
    query = query_of(page.headers["Location"])
    assert query["state"] == "st-1" and query["iss"] == idp.url  # RFC 9207
    return query["code"], verifier


def exchange(
    idp: LiveServer, key: DpopKey, data: dict[str, str], proof: str | None = None, **kw: Any
) -> requests.Response:
    url = idp.url + ".oidc/token"
    headers = {"DPoP": proof if proof is not None else key.proof("POST", url)}
    return requests.post(url, data=data, headers=headers, timeout=5, **kw)


def code_data(site: AppSite, client_id: str, code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": site.url + "callback",
        "client_id": client_id,
    }


def test_code_flow_gives_dpop_bound_tokens(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session
) -> None:
    client_id = site.client_document()
    code, verifier = authorize(browser, idp, site, person, client_id)
    key = DpopKey()
    answer = exchange(idp, key, code_data(site, client_id, code, verifier))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "DPoP" and answer.headers["Cache-Control"] == "no-store"
    jwks = idp.url + ".oidc/jwks"
    _, id_claims = verify_jwt(body["id_token"], jwks)
    assert id_claims["webid"] == person.webid and id_claims["aud"] == client_id
    assert id_claims["azp"] == client_id and id_claims["nonce"] == "n-1" and id_claims["iss"] == idp.url
    header, at = verify_jwt(body["access_token"], jwks)
    assert header["typ"] == "at+jwt"
    assert at["iss"] == idp.url and "solid" in at["aud"] and at["webid"] == person.webid
    assert at["client_id"] == client_id and at["cnf"] == {"jkt": key.jkt}
    assert at["exp"] > time.time() and at["jti"] and at["sub"]
    # The refresh token rotates and stays bound to the same key.
    refreshed = exchange(
        idp,
        key,
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": client_id},
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != body["refresh_token"]
    assert verify_jwt(refreshed.json()["access_token"], jwks)[1]["cnf"] == {"jkt": key.jkt}
    # Consent was remembered: a second login goes straight back to the app.
    again = follow_to(
        browser,
        idp.url
        + ".oidc/auth?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": site.url + "callback",
                "scope": "openid webid",
                "code_challenge": pkce()[1],
                "code_challenge_method": "S256",
            }
        ),
        site.url,
    )
    assert again.status_code == 303 and "code" in query_of(again.headers["Location"])


def test_not_logged_in_goes_to_the_login_page(idp: LiveServer, site: AppSite) -> None:
    client_id = site.client_document()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": site.url + "callback",
        "scope": "openid webid",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    }
    answer = requests.get(idp.url + ".oidc/auth", params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/.account/login?return_to=%2F.oidc%2Fauth%3F")


@pytest.mark.parametrize(
    "change,status,error",
    [
        ({"code_verifier": "x" * 50}, 400, "invalid_grant"),  # wrong PKCE verifier
        ({"redirect_uri": "http://127.0.0.1:1/other"}, 400, "invalid_grant"),
        ({"client_id": "unknown-client"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
    ],
)
def test_bad_code_exchanges_change_nothing(
    idp: LiveServer,
    site: AppSite,
    person: Person,
    browser: requests.Session,
    change: dict[str, str],
    status: int,
    error: str,
) -> None:
    client_id = site.client_document()
    code, verifier = authorize(browser, idp, site, person, client_id)
    key = DpopKey()
    bad = exchange(idp, key, {**code_data(site, client_id, code, verifier), **change})
    assert (bad.status_code, bad.json()["error"]) == (status, error), bad.text
    good = exchange(idp, key, code_data(site, client_id, code, verifier))
    assert good.status_code == 200, good.text


@pytest.mark.parametrize(
    "make_proof,check",
    [
        (lambda key, url: "", "invalid_dpop_proof"),  # missing
        (lambda key, url: "not.a.jwt", "invalid_dpop_proof"),
        (lambda key, url: key.proof("POST", url, iat=time.time() - 3600), "invalid_dpop_proof"),  # expired
        (lambda key, url: key.proof("GET", url), "invalid_dpop_proof"),  # wrong htm
        (lambda key, url: key.proof("POST", url + "x"), "invalid_dpop_proof"),  # wrong htu
    ],
)
def test_bad_proofs_change_nothing(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session, make_proof: Any, check: str
) -> None:
    client_id = site.client_document()
    code, verifier = authorize(browser, idp, site, person, client_id)
    key = DpopKey()
    url = idp.url + ".oidc/token"
    data = code_data(site, client_id, code, verifier)
    proof = make_proof(key, url)
    headers = {"DPoP": proof} if proof else {}
    bad = requests.post(url, data=data, headers=headers, timeout=5)
    assert (bad.status_code, bad.json()["error"]) == (400, check), bad.text
    assert exchange(idp, key, data).status_code == 200


def test_replayed_proof_is_refused(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session
) -> None:
    client_id = site.client_document()
    key = DpopKey()
    proof = key.proof("POST", idp.url + ".oidc/token")
    first_code, first_verifier = authorize(browser, idp, site, person, client_id)
    assert (
        exchange(idp, key, code_data(site, client_id, first_code, first_verifier), proof).status_code == 200
    )
    code, verifier = authorize(browser, idp, site, person, client_id)
    replayed = exchange(idp, key, code_data(site, client_id, code, verifier), proof)
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_dpop_proof"
    assert "jti" in replayed.json()["error_description"]
    assert exchange(idp, key, code_data(site, client_id, code, verifier)).status_code == 200


def test_replayed_code_is_refused_and_revokes_its_tokens(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session
) -> None:
    client_id = site.client_document()
    code, verifier = authorize(browser, idp, site, person, client_id)
    key = DpopKey()
    first = exchange(idp, key, code_data(site, client_id, code, verifier))
    assert first.status_code == 200
    again = exchange(idp, key, code_data(site, client_id, code, verifier))
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    refresh = exchange(
        idp,
        key,
        {
            "grant_type": "refresh_token",
            "refresh_token": first.json()["refresh_token"],
            "client_id": client_id,
        },
    )
    assert refresh.json()["error"] == "invalid_grant"  # RFC 6749 §4.1.2: revoked


def test_refresh_token_twice_or_with_another_key(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session
) -> None:
    client_id = site.client_document()
    code, verifier = authorize(browser, idp, site, person, client_id)
    key = DpopKey()
    tokens = exchange(idp, key, code_data(site, client_id, code, verifier)).json()
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
    other = exchange(idp, DpopKey(), data)
    assert (other.status_code, other.json()["error"]) == (400, "invalid_grant")
    assert "another DPoP key" in other.json()["error_description"]
    rotated = exchange(idp, key, data)  # the other key's attempt changed nothing
    assert rotated.status_code == 200
    twice = exchange(idp, key, data)
    assert (twice.status_code, twice.json()["error"]) == (400, "invalid_grant")
    newest = {**data, "refresh_token": rotated.json()["refresh_token"]}
    assert exchange(idp, key, newest).json()["error"] == "invalid_grant"  # the family is revoked


@pytest.mark.parametrize(
    "change,error",
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"scope": "webid"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_authorization_requests_redirect_with_an_error(
    idp: LiveServer, site: AppSite, change: dict[str, str], error: str
) -> None:
    client_id = site.client_document()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": site.url + "callback",
        "scope": "openid webid",
        "state": "s",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        **change,
    }
    answer = requests.get(idp.url + ".oidc/auth", params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    query = query_of(answer.headers["Location"])
    assert query["error"] == error and query["state"] == "s" and query["iss"] == idp.url


@pytest.mark.parametrize("where", ["unregistered", "private", "localhost"])
def test_untrusted_redirects_are_never_followed(idp: LiveServer, site: AppSite, where: str) -> None:
    redirect_uri = site.url + "callback"
    if where == "unregistered":
        client_id, redirect_uri = site.client_document(), site.url + "elsewhere"
    elif where == "private":
        client_id = "http://192.168.7.7/app.jsonld"  # a Client ID Document on a private address
    else:
        client_id = site.client_document().replace("127.0.0.1", "localhost")  # loopback, not allowed by name
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid webid",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    }
    hits = len(site.hits)
    answer = requests.get(idp.url + ".oidc/auth", params=params, allow_redirects=False, timeout=10)
    assert answer.status_code in (400, 401) and "Location" not in answer.headers
    assert "invalid_request" in answer.text if where == "unregistered" else "invalid_client" in answer.text
    if where != "unregistered":
        assert "private, loopback or reserved" in answer.text
        assert len(site.hits) == hits  # nothing was fetched


def test_consent_form_needs_its_csrf_token(
    idp: LiveServer, site: AppSite, person: Person, browser: requests.Session
) -> None:
    client_id = site.client_document(name="csrf-app")
    assert log_in(browser, idp.url, person.email, person.password).status_code == 303
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": site.url + "callback",
        "scope": "openid webid",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    }
    page = browser.get(idp.url + ".oidc/auth", params=params, timeout=5)
    assert page.status_code == 200
    forged = browser.post(
        page.url,
        data={**params, "decision": "allow", "csrf_token": "forged"},
        allow_redirects=False,
        timeout=5,
    )
    assert forged.status_code == 400 and "Location" not in forged.headers
    denied = consent(browser, page, decision="deny")
    assert query_of(denied.headers["Location"])["error"] == "access_denied"
