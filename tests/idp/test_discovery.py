"""Discovery, JWKS and key rotation over HTTP."""

from __future__ import annotations

import requests

from pod_server.idp.keys import retire_keys, rotate_keys
from tests.conftest import LiveServer


def test_discovery_document(idp: LiveServer) -> None:
    doc = requests.get(idp.url + ".well-known/openid-configuration", timeout=5).json()
    assert doc["issuer"] == idp.url  # exactly the base URL, trailing slash included
    assert "webid" in doc["scopes_supported"]
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(doc["grant_types_supported"])
    assert {"client_secret_basic", "none"} <= set(doc["token_endpoint_auth_methods_supported"])
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert {"ES256", "RS256"} <= set(doc["dpop_signing_alg_values_supported"])
    assert doc["authorization_response_iss_parameter_supported"] is True
    for name in ("jwks_uri", "token_endpoint", "registration_endpoint", "end_session_endpoint"):
        assert doc[name].startswith(idp.url)


def test_jwks_serves_es256_and_rs256_public_keys(idp: LiveServer) -> None:
    keys = requests.get(idp.url + ".oidc/jwks", timeout=5).json()["keys"]
    assert {k["alg"] for k in keys} >= {"ES256", "RS256"}
    assert all(k["kid"] and "d" not in k and "p" not in k for k in keys)


def test_rotation_keeps_old_keys_until_retired(idp: LiveServer) -> None:
    database = idp.app.extensions["pod_server.db"]
    store = idp.app.extensions["pod_server.idp"].keys
    before = {k["kid"] for k in requests.get(idp.url + ".oidc/jwks", timeout=5).json()["keys"]}
    new = rotate_keys(database)
    store.refresh()
    after = {k["kid"] for k in requests.get(idp.url + ".oidc/jwks", timeout=5).json()["keys"]}
    assert after == before | set(new)
    assert {store.current("ES256").kid, store.current("RS256").kid} == set(new)
    retired = retire_keys(database)
    store.refresh()
    assert set(retired) == before
    assert {k["kid"] for k in requests.get(idp.url + ".oidc/jwks", timeout=5).json()["keys"]} == set(new)
