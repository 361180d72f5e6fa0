"""Test-side OAuth/DPoP tools, written against the RFCs with joserfc (not pod_server's code)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64(hashlib.sha256(verifier.encode()).digest())


@dataclass
class DpopKey:
    key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", private=True))

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self, method: str, url: str, *, iat: float | None = None, jti: str | None = None, **extra: Any
    ) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        claims = {
            "htm": method,
            "htu": url,
            "iat": int(time.time() if iat is None else iat),
            "jti": jti or str(uuid.uuid4()),
            **extra,
        }
        return jwt.encode(header, claims, self.key, algorithms=["ES256"])


def verify_jwt(token: str, jwks_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify ``token`` against the published JWKS; return (header, claims)."""
    keys = KeySet.import_key_set(requests.get(jwks_url, timeout=5).json())
    decoded = jwt.decode(token, keys, algorithms=["ES256", "RS256"])
    return dict(decoded.header), dict(decoded.claims)


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return html.unescape(match.group(1))


def hidden_fields(page: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return {html.unescape(k): html.unescape(v) for k, v in found}


def log_in(http: requests.Session, base: str, email: str, password: str) -> requests.Response:
    page = http.get(base + ".account/login", timeout=5)
    return http.post(
        base + ".account/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        allow_redirects=False,
        timeout=5,
    )


def consent(http: requests.Session, page: requests.Response, decision: str = "allow") -> requests.Response:
    """Submit the consent form found in ``page``; return the (unfollowed) answer."""
    fields = hidden_fields(page.text)
    fields["decision"] = decision
    fields["remember"] = "1"
    return http.post(page.url, data=fields, allow_redirects=False, timeout=5)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def follow_to(http: requests.Session, url: str, stop_prefix: str) -> requests.Response:
    """Follow redirects by hand until one points at ``stop_prefix`` (the app's redirect URI)."""
    for _ in range(10):
        response = http.get(url, allow_redirects=False, timeout=5)
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303, 307) or not location:
            return response
        url = urljoin(url, location)
        if url.startswith(stop_prefix):
            response.headers["Location"] = url
            return response
    raise AssertionError("too many redirects")


class _Handler(BaseHTTPRequestHandler):
    documents: dict[str, tuple[int, dict[str, str], bytes]] = {}
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        status, headers, body = self.documents.get(self.path.split("?")[0], (404, {}, b"not here"))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class AppSite:
    """A tiny site on 127.0.0.1: Client ID Documents, and the app's redirect URI (callback)."""

    url: str
    documents: dict[str, tuple[int, dict[str, str], bytes]]
    hits: list[str]

    def client_document(self, name: str = "app", **metadata: Any) -> str:
        client_id = f"{self.url}{name}.jsonld"
        doc = {
            "@context": ["https://www.w3.org/ns/solid/oidc-context.jsonld"],
            "client_id": client_id,
            "client_name": "Test App",
            "redirect_uris": [self.url + "callback"],
            "post_logout_redirect_uris": [self.url + "bye"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "openid webid offline_access",
            "token_endpoint_auth_method": "none",
            **metadata,
        }
        self.documents[f"/{name}.jsonld"] = (
            200,
            {"Content-Type": "application/ld+json"},
            json.dumps(doc).encode(),
        )
        return client_id


@contextmanager
def app_site() -> Iterator[AppSite]:
    handler = type("Handler", (_Handler,), {"documents": {}, "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        handler.documents["/callback"] = (200, {"Content-Type": "text/plain"}, b"callback reached")
        yield AppSite(f"http://127.0.0.1:{server.server_port}/", handler.documents, handler.hits)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
