"""Solid-OIDC sessions: log in, keep the DPoP key, refresh tokens, sign every request.

A :class:`Session` is how the rest of ``pod_client`` speaks HTTP. It works with any Solid-OIDC
provider and any Solid resource server, through the standard protocols only:

- **discovery** at ``{issuer}/.well-known/openid-configuration`` (OIDC Discovery §4, RFC 8414 §3);
  the provider must name itself as the issuer it was asked about (RFC 8414 §3.3);
- **client credentials** (RFC 6749 §4.4, HTTP Basic client auth per §2.3.1): the way scripts and
  services log in with an id and secret the account owner made;
- **interactive login**: authorization code with PKCE S256 (RFC 6749 §4.1, RFC 7636), the system
  browser, and a one-shot redirect listener on ``http://127.0.0.1:{port}/callback`` (RFC 8252
  §7.3). The app registers itself first (RFC 7591, a public ``native`` client) unless it is given
  a ``client_id`` (a Client ID Document URL, Solid-OIDC §5.1, or one the operator registered).
  The ``state`` is checked (RFC 6749 §10.12), and ``iss`` when the provider sends it (RFC 9207
  §2.4); the ID token's signature is checked against the provider's JWKS with its ``iss``,
  ``aud``, ``exp`` and ``nonce`` (OIDC Core §3.1.3.7);
- **DPoP** (RFC 9449): one ES256 key per session (:class:`pod_client.dpop.DpopKey`) binds every
  token; each request carries ``Authorization: DPoP <token>`` (§7.1) and a fresh proof with
  ``ath`` (§4.2). A ``DPoP-Nonce`` challenge from the provider (§8) or a resource server (§9) is
  answered by retrying once with the nonce, which is then used for that origin from then on;
- **refresh**: a token that expires within :data:`REFRESH_MARGIN` seconds is refreshed before the
  request. Refresh tokens rotate: each refresh stores the new one (OAuth 2.0 Security BCP
  §4.14.2; a provider revokes the whole login when a spent one is used again). A client
  credentials session has no refresh token and simply runs its grant again.

Sessions are saved to and restored from a token cache file (:meth:`Session.save`,
:meth:`Session.load`): JSON holding the tokens, their expiry, the issuer, the client id and secret,
the WebID and the DPoP private key. It is created with mode 0600 and never exists with wider
permissions; :meth:`Session.load` refuses a file that group or others may read or write. Because
refresh tokens rotate, a session saved to (or loaded from) a file writes its new tokens back to
that file after every refresh, so the file never holds a spent refresh token.

Tokens and secrets are never logged, printed or put in exception messages.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import html
import json
import os
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, quote_plus, urlencode, urljoin, urlsplit

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from pod_client.dpop import DpopKey
from pod_client.errors import NotAuthenticated, PodClientError, server_message

SCOPE = "openid webid offline_access"
"""What an interactive login asks for (Solid-OIDC: ``webid``; OIDC Core §11: ``offline_access``
for a refresh token)."""
CLIENT_CREDENTIALS_SCOPE = "webid"
"""What a client credentials grant asks for (the scope CSS documents; others accept it too)."""
REFRESH_MARGIN = 60.0
"""Seconds before expiry at which a request refreshes the access token first."""
IDP_TIMEOUT = 30.0
"""Seconds to wait for the provider's discovery, token, registration and JWKS endpoints."""
CACHE_VERSION = 1

_ID_TOKEN_ALGORITHMS = ("RS256", "ES256", "PS256", "EdDSA", "ES384", "RS384", "RS512", "ES512", "PS384")
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 10
_NO_BODY_METHODS = ("GET", "HEAD", "OPTIONS")
_SESSION_ENDED = ("invalid_grant", "invalid_client", "unauthorized_client", "invalid_token")

Body = bytes | Iterable[bytes] | IO[bytes] | None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined and base64-encoded.
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, read without checking its signature: only for reading a claim the
    server will check anyway (the WebID in our own access token). Empty for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def _webid_of(claims: Mapping[str, Any]) -> str | None:
    """Solid-OIDC: the ``webid`` claim, else ``sub`` when it is a URL."""
    for name in ("webid", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value
    return None


def _oauth_error(response: requests.Response) -> str | None:
    """The ``error`` code of an OAuth error response (RFC 6749 §5.2), if it is one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _nonce_challenge(response: requests.Response) -> bool:
    """RFC 9449 §9: a resource server asks for a nonce with 401, ``WWW-Authenticate: DPoP
    error="use_dpop_nonce"`` and the nonce in ``DPoP-Nonce``."""
    return (
        response.status_code == 401
        and "DPoP-Nonce" in response.headers
        and "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")
    )


def _replayable(data: Body) -> bool:
    if data is None or isinstance(data, bytes | bytearray | str):
        return True
    seekable = getattr(data, "seekable", None)
    return callable(seekable) and bool(seekable())


def _position(data: Body) -> int | None:
    """Where a seekable stream starts, to rewind it for a retry."""
    if data is None or isinstance(data, bytes | bytearray | str) or not _replayable(data):
        return None
    tell = getattr(data, "tell", None)
    return int(tell()) if callable(tell) else None


def _rewind(data: Body, start: int | None) -> None:
    seek = getattr(data, "seek", None)
    if start is not None and callable(seek):
        seek(start)


@dataclass(frozen=True)
class LoginRequest:
    """One browser login between :meth:`Session.authorization_url` and :meth:`Session.finish_login`:
    the redirect URI and the secrets that tie the answer to this login (``state``, RFC 6749
    §10.12; ``nonce``, OIDC Core §3.1.2.1; the PKCE ``verifier``, RFC 7636 §4.1)."""

    redirect_uri: str
    state: str
    nonce: str
    verifier: str


class _Callback:
    """The loopback redirect listener (RFC 8252 §7.3): serves on 127.0.0.1 until the browser
    comes back to ``/callback``, answers a short page, and hands over the query parameters."""

    def __init__(self, port: int) -> None:
        self.params: dict[str, str] | None = None
        self.state: str | None = None  # the login's, set before the browser is sent off
        self._done = threading.Event()
        self._lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # a browser's idle preconnection must not hold a thread for long

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with listener._lock:
                    first = parts.path == "/callback" and listener.params is None
                    if first:
                        listener.params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if not first:
                    self.send_error(404)
                    return
                try:
                    self._answer(listener.params or {})
                finally:
                    listener._done.set()

            def _answer(self, params: Mapping[str, str]) -> None:
                if params.get("state") != listener.state:
                    title, text = "Login failed", "The answer did not belong to this login. Start it again."
                elif "error" in params or "code" not in params:
                    reason = params.get("error_description") or params.get("error") or "no code came back"
                    title, text = "Login failed", f"The provider said: {reason}."
                else:
                    title, text = "Logged in", "You can close this tab and go back to the app."
                page = (
                    "<!doctype html><html lang=en><meta charset=utf-8>"
                    f"<title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
                    f"<p>{html.escape(text)}</p></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query holds the code: keep it out of stderr

        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise PodClientError(
                f"cannot listen on 127.0.0.1:{port} for the login redirect ({exc.strerror}); "
                "choose another port"
            ) from None
        self._server.daemon_threads = True
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float) -> dict[str, str]:
        if not self._done.wait(timeout):
            raise PodClientError(
                f"the login did not come back within {timeout:g} seconds; run the login again"
            )
        assert self.params is not None
        return self.params

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class Session:
    """A Solid-OIDC login, or none (:meth:`anonymous`). Make one with a class method; ``webid``,
    ``issuer`` and ``client_id`` say who is logged in where; ``expires_at`` (seconds since the
    epoch, or ``None`` when unknown) is when the access token ends."""

    webid: str | None
    issuer: str | None
    client_id: str | None
    expires_at: float | None

    def __init__(
        self,
        *,
        issuer: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        webid: str | None = None,
        key: DpopKey | None = None,
        http: requests.Session | None = None,
    ) -> None:
        self.webid = webid
        self.issuer = issuer
        self.client_id = client_id
        self.expires_at = None
        self._client_secret = client_secret
        self._key = key or DpopKey()
        self._http = http or requests.Session()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._id_token: str | None = None
        self._grant: str | None = None  # "client_credentials" or "authorization_code"
        self._metadata: dict[str, Any] | None = None
        self._nonces: dict[str, str] = {}  # origin -> the latest DPoP-Nonce it sent
        self._cache: Path | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Session(webid={self.webid!r}, issuer={self.issuer!r}, client_id={self.client_id!r})"

    # -- logging in ---------------------------------------------------------------------------

    @classmethod
    def anonymous(cls) -> Session:
        """No login: requests go out without credentials, as the public."""
        return cls()

    @classmethod
    def client_credentials(cls, issuer: str, client_id: str, client_secret: str) -> Session:
        """Log in with an id and secret the account owner made (RFC 6749 §4.4). A wrong pair
        raises :class:`pod_client.errors.NotAuthenticated` with the provider's message."""
        session = cls(issuer=issuer, client_id=client_id, client_secret=client_secret)
        session._grant = "client_credentials"
        session._discover()
        session._apply(session._token_request(session._client_credentials_form()))
        return session

    @classmethod
    def interactive(
        cls,
        issuer: str,
        *,
        open_browser: Callable[[str], object] = webbrowser.open,
        port: int = 0,
        client_name: str = "pod (Python)",
        timeout: float = 300,
        client_id: str | None = None,
    ) -> Session:
        """Log in through the browser: ``open_browser`` gets the authorization URL (a command line
        should also print it, for when no browser opens), the person logs in and consents, and the
        provider redirects to ``http://127.0.0.1:{port}/callback`` (``port`` 0: any free port).

        Without ``client_id`` the app registers itself (RFC 7591) for this redirect URI. With one
        (a Client ID Document URL, or an id the operator registered), ``port`` must be the one in
        its registered redirect URI. Waits at most ``timeout`` seconds for the browser to return."""
        session = cls(issuer=issuer, client_id=client_id)
        listener = _Callback(port)
        try:
            url, login = session.authorization_url(
                f"http://127.0.0.1:{listener.port}/callback", client_name=client_name
            )
            listener.state = login.state
            open_browser(url)
            answer = listener.wait(timeout)
        finally:
            listener.close()
        session.finish_login(answer, login)
        return session

    def authorization_url(
        self, redirect_uri: str, *, client_name: str = "pod (Python)"
    ) -> tuple[str, LoginRequest]:
        """Step 1 of a browser login (OAuth 2.0 authorization code, RFC 6749 §4.1, with PKCE,
        RFC 7636): discover the provider, register this app for ``redirect_uri`` when the session
        has no ``client_id`` (RFC 7591), and return the URL to send the person to, with what
        :meth:`finish_login` needs (keep it where only this login can reach it: it is a secret).
        :meth:`interactive` does both steps with a loopback listener; a web app does them across
        its own redirect."""
        self._grant = "authorization_code"
        metadata = self._discover()
        endpoint = metadata.get("authorization_endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise PodClientError(f"{self.issuer} has no authorization_endpoint: it cannot log people in")
        if self.client_id is None:
            self._register(redirect_uri, client_name)
        assert self.client_id is not None
        login = LoginRequest(
            redirect_uri,
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(64),  # RFC 7636 §4.1: 43-128 unreserved characters
        )
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": _b64url(hashlib.sha256(login.verifier.encode("ascii")).digest()),
            "code_challenge_method": "S256",
            # OIDC Core §11: offline_access (a refresh token) comes with prompt=consent.
            "prompt": "consent",
        }
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params), login

    def finish_login(self, answer: Mapping[str, str], login: LoginRequest) -> None:
        """Step 2 of a browser login: check the provider's answer (the query of the redirect:
        state, RFC 9207 ``iss``, errors) and exchange its code for DPoP-bound tokens."""
        self._check_callback(answer, login.state)
        form = {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "code_verifier": login.verifier,
            "redirect_uri": login.redirect_uri,
        }
        self._apply(self._token_request(form), nonce=login.nonce)

    def _check_callback(self, answer: Mapping[str, str], state: str) -> None:
        # RFC 6749 §10.12: the state ties the answer to this login (no forged redirects).
        if answer.get("state") != state:
            raise PodClientError("the login answer did not carry this login's state; run the login again")
        # RFC 9207 §2.4: when the provider sends iss (or says it always does), it must be this one.
        assert self._metadata is not None
        iss = answer.get("iss")
        if iss is None and self._metadata.get("authorization_response_iss_parameter_supported"):
            raise PodClientError("the provider promised an iss in the login answer but sent none")
        if iss is not None and iss != self._metadata["issuer"]:
            raise PodClientError(f"the login answer came from {iss}, not from {self._metadata['issuer']}")
        if "error" in answer:
            reason = answer.get("error_description") or answer["error"]
            raise NotAuthenticated(f"the login did not complete: {reason} ({answer['error']})")
        if not answer.get("code"):
            raise PodClientError("the login answer carried no authorization code")

    def _register(self, redirect_uri: str, client_name: str) -> None:
        """RFC 7591 §2-3: a public native client (no secret; PKCE and DPoP protect it)."""
        assert self._metadata is not None
        endpoint = self._metadata.get("registration_endpoint")
        if not isinstance(endpoint, str):
            raise PodClientError(
                f"{self.issuer} does not offer dynamic registration: pass client_id (a Client ID "
                "Document URL, or an id the provider's operator registered)"
            )
        metadata = {
            "client_name": client_name,
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            "scope": SCOPE,
        }
        response = self._call("POST", endpoint, json=metadata)
        if response.status_code not in (200, 201):
            raise PodClientError(
                f"the provider refused to register this app: {server_message(response)}",
                url=endpoint,
                status=response.status_code,
            )
        body = self._json(response, endpoint)
        client_id, secret = body.get("client_id"), body.get("client_secret")
        if not isinstance(client_id, str) or not client_id:
            raise PodClientError("the provider's registration answer has no client_id", url=endpoint)
        self.client_id = client_id
        self._client_secret = secret if isinstance(secret, str) else None

    # -- the provider ------------------------------------------------------------------------

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request to the provider; network errors become ``PodClientError(status=None)``."""
        try:
            return self._http.request(method, url, timeout=IDP_TIMEOUT, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise PodClientError(f"could not reach the provider: {type(exc).__name__}", url=url) from None

    @staticmethod
    def _json(response: requests.Response, url: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PodClientError("the provider answered something other than a JSON object", url=url)
        return body

    def _discover(self) -> dict[str, Any]:
        """The provider's metadata, fetched once (OIDC Discovery §4)."""
        if self._metadata is not None:
            return self._metadata
        if not self.issuer:
            raise PodClientError("this session has no issuer to log in with")
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = self._call("GET", url, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise PodClientError(
                f"{self.issuer} is not an OpenID provider: discovery answered {response.status_code}",
                url=url,
                status=response.status_code,
            )
        metadata = self._json(response, url)
        named = metadata.get("issuer")
        # RFC 8414 §3.3: the issuer in the metadata must be the one asked about (a trailing slash
        # is forgiven when asking, not in the tokens: they are checked against the exact value).
        if not isinstance(named, str) or named.rstrip("/") != self.issuer.rstrip("/"):
            raise PodClientError(f"the provider at {self.issuer} names itself {named!r}", url=url)
        if not isinstance(metadata.get("token_endpoint"), str):
            raise PodClientError("the provider's metadata has no token_endpoint", url=url)
        self.issuer = named
        self._metadata = metadata
        return metadata

    def _client_credentials_form(self) -> dict[str, str]:
        return {"grant_type": "client_credentials", "scope": CLIENT_CREDENTIALS_SCOPE}

    def _token_request(self, form: Mapping[str, str]) -> dict[str, Any]:
        """POST to the token endpoint with a DPoP proof (RFC 9449 §5); a ``use_dpop_nonce``
        answer (§8) is retried once with the nonce. Errors carry the provider's description."""
        endpoint = str(self._discover()["token_endpoint"])
        headers = {"Accept": "application/json"}
        data = dict(form)
        if self._client_secret is not None and self.client_id is not None:
            headers["Authorization"] = _basic(self.client_id, self._client_secret)
        elif self.client_id is not None:
            data["client_id"] = self.client_id  # a public client names itself (RFC 6749 §3.2.1)
        for attempt in (1, 2):
            headers["DPoP"] = self._key.proof("POST", endpoint, nonce=self._nonces.get(_origin(endpoint)))
            response = self._call("POST", endpoint, data=data, headers=headers)
            nonce = self._note_nonce(endpoint, response)
            if response.status_code == 200:
                return self._json(response, endpoint)
            if attempt == 1 and nonce is not None and _oauth_error(response) == "use_dpop_nonce":
                continue
            break
        message = server_message(response)
        if response.status_code == 401 or _oauth_error(response) in _SESSION_ENDED:
            raise NotAuthenticated(message, url=endpoint)
        raise PodClientError(message, url=endpoint, status=response.status_code)

    def _apply(self, body: Mapping[str, Any], *, nonce: str | None = None) -> None:
        """Keep the tokens of a token response (RFC 6749 §5.1)."""
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise PodClientError("the provider's token answer has no access_token", url=self.issuer)
        token_type = body.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "dpop":
            raise PodClientError(
                f"the provider issued a {token_type} token, not a DPoP-bound one; Solid-OIDC needs DPoP"
            )
        claims = _unverified_claims(access)
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            self.expires_at = time.time() + float(expires_in)
        elif isinstance(claims.get("exp"), int | float):
            self.expires_at = float(claims["exp"])
        else:
            self.expires_at = None
        self._access_token = access
        refresh = body.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            self._refresh_token = refresh  # rotation: the old one is spent now
        id_token = body.get("id_token")
        if isinstance(id_token, str) and id_token:
            self._id_token = id_token
            webid = _webid_of(self._verify_id_token(id_token, nonce))
        else:
            if nonce is not None:
                raise PodClientError("the provider answered the login without an ID token")
            webid = _webid_of(claims)
        if webid is None and self.webid is None:
            raise PodClientError(
                "the provider's tokens name no WebID (no webid claim); is it a Solid provider?"
            )
        if webid is not None:
            self.webid = webid

    def _verify_id_token(self, token: str, nonce: str | None) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: signed by a key in the provider's JWKS, for this issuer and client,
        unexpired, carrying the login's nonce."""
        metadata = self._discover()
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise PodClientError("the provider's metadata has no jwks_uri to check the ID token with")
        response = self._call("GET", jwks_uri, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise PodClientError(
                "the provider's JWKS could not be read", url=jwks_uri, status=response.status_code
            )
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in _ID_TOKEN_ALGORITHMS if a in offered] or ["RS256"]
        try:
            keys = KeySet.import_key_set(self._json(response, jwks_uri))  # type: ignore[arg-type]
            claims = dict(jwt.decode(token, keys, algorithms=algorithms).claims)
            jwt.JWTClaimsRegistry(
                leeway=60, iss={"essential": True, "value": metadata["issuer"]}, exp={"essential": True}
            ).validate(claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise PodClientError(f"the provider's ID token is not valid: {exc}") from None
        audience = claims.get("aud")
        audiences = (
            [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        )
        if self.client_id not in audiences:
            raise PodClientError("the ID token was issued to another client")
        if len(audiences) > 1 and claims.get("azp", self.client_id) != self.client_id:
            raise PodClientError("the ID token's azp names another client")
        if nonce is not None and claims.get("nonce") != nonce:
            raise PodClientError("the ID token does not carry this login's nonce")
        return claims

    def _note_nonce(self, url: str, response: requests.Response) -> str | None:
        nonce = response.headers.get("DPoP-Nonce")
        if nonce:
            self._nonces[_origin(url)] = nonce
        return nonce or None

    # -- refreshing ----------------------------------------------------------------------------

    def _can_refresh(self) -> bool:
        return self._refresh_token is not None or (
            self._grant == "client_credentials" and self._client_secret is not None
        )

    def _expiring(self) -> bool:
        return self.expires_at is not None and self.expires_at - time.time() < REFRESH_MARGIN

    def refresh(self) -> None:
        """Get a new access token now: with the refresh token (storing the rotated one), or for
        client credentials by running the grant again. Raises
        :class:`pod_client.errors.NotAuthenticated` when the login has ended."""
        with self._lock:
            if self._refresh_token is not None:
                body = self._token_request(
                    {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
                )
            elif self._grant == "client_credentials" and self._client_secret is not None:
                body = self._token_request(self._client_credentials_form())
            else:
                raise NotAuthenticated("this session has no refresh token; log in again")
            self._apply(body)
            if self._cache is not None:
                self.save(self._cache)

    def _refresh_if_expiring(self) -> None:
        with self._lock:  # another thread may have refreshed while this one waited
            if self._access_token is not None and self._expiring() and self._can_refresh():
                self.refresh()

    # -- requests ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | Iterable[bytes] | IO[bytes] | None = None,
        stream: bool = False,
        timeout: float = 30,
    ) -> requests.Response:
        """Send one request, signed when logged in. Never raises for HTTP statuses (use
        :func:`pod_client.errors.raise_for_status`); a network failure raises
        :class:`pod_client.errors.PodClientError` with ``status`` ``None``.

        Redirects are followed for GET, HEAD and OPTIONS (and a 303 for any method, as a GET),
        each hop with its own proof; the token goes to no other origin than the one asked for. A
        DPoP-Nonce challenge is answered once, unless the body is a stream that cannot rewind."""
        self._refresh_if_expiring()
        method = method.upper()
        token_origin = _origin(url)
        start = _position(data)
        challenged, hops = False, 0
        while True:
            response = self._send(method, url, headers, data, stream, timeout, _origin(url) == token_origin)
            if not challenged and _nonce_challenge(response) and _replayable(data):
                challenged = True
                response.close()
                _rewind(data, start)
                continue
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or not location or hops >= _MAX_REDIRECTS:
                return response
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method = "HEAD" if method == "HEAD" else "GET"
                data, start = None, None
                headers = {k: v for k, v in (headers or {}).items() if not k.lower().startswith("content-")}
            elif method not in _NO_BODY_METHODS:
                return response  # 307/308 with a body: the caller decides
            response.close()
            url = urljoin(url, location)
            challenged, hops = False, hops + 1

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        data: bytes | Iterable[bytes] | IO[bytes] | None,
        stream: bool,
        timeout: float,
        with_token: bool,
    ) -> requests.Response:
        sent = dict(headers or {})
        token = self._access_token
        if token is not None and with_token:
            sent["Authorization"] = f"DPoP {token}"
            sent["DPoP"] = self._key.proof(
                method, url, access_token=token, nonce=self._nonces.get(_origin(url))
            )
        try:
            response = self._http.request(
                method, url, headers=sent, data=data, stream=stream, timeout=timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise PodClientError(f"could not reach {_origin(url)}: {type(exc).__name__}", url=url) from None
        self._note_nonce(url, response)
        return response

    # -- the token cache ---------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the session to ``path`` (JSON, mode 0600: it holds the tokens and the DPoP private
        key). The file is written beside ``path`` with 0600 from its creation and renamed over it.
        From then on, every refresh writes the rotated tokens back to ``path``."""
        path = Path(path)
        document = {
            "version": CACHE_VERSION,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "grant": self._grant,
            "webid": self.webid,
            "access_token": self._access_token,
            "refresh_token": self._refresh_token,
            "id_token": self._id_token,
            "expires_at": self.expires_at,
            "dpop_key": self._key.to_dict(),
        }
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._cache = path

    @classmethod
    def load(cls, path: Path) -> Session:
        """Restore a session :meth:`save` wrote, refreshing its token if it expires soon. Refuses
        a file that group or others may read or write (it holds tokens): fix it with ``chmod 600``
        or log in again."""
        path = Path(path)
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise PodClientError(f"no saved session at {path}: log in first") from None
        except OSError as exc:
            raise PodClientError(f"cannot read the saved session at {path}: {exc.strerror}") from None
        with os.fdopen(descriptor, encoding="utf-8") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if os.name == "posix" and mode & 0o077:
                raise PodClientError(
                    f"{path} holds login tokens but other users may access it (mode {mode & 0o777:o}); "
                    f"run chmod 600 {path}, or log in again"
                )
            try:
                document = json.load(handle)
            except ValueError:
                document = None
        if not isinstance(document, dict) or document.get("version") != CACHE_VERSION:
            raise PodClientError(f"{path} is not a saved session this version understands; log in again")
        try:
            key = DpopKey.from_dict(document["dpop_key"])
        except (KeyError, TypeError, ValueError, JoseError):
            raise PodClientError(f"{path} holds no usable DPoP key; log in again") from None

        def text(name: str) -> str | None:
            value = document.get(name)
            return value if isinstance(value, str) else None

        session = cls(
            issuer=text("issuer"),
            client_id=text("client_id"),
            client_secret=text("client_secret"),
            webid=text("webid"),
            key=key,
        )
        session._grant = text("grant")
        session._access_token = text("access_token")
        session._refresh_token = text("refresh_token")
        session._id_token = text("id_token")
        expires_at = document.get("expires_at")
        session.expires_at = float(expires_at) if isinstance(expires_at, int | float) else None
        session._cache = path
        if session._access_token is not None and session._expiring():
            if not session._can_refresh():
                raise NotAuthenticated(f"the session saved in {path} has expired; log in again")
            session.refresh()
        return session

    def logout(self) -> None:
        """Forget the tokens, and the token cache file this session was saved to or loaded from.
        The refresh token is revoked first where the provider offers RFC 7009 revocation. (Ending
        the provider's browser session needs the browser: RP-initiated logout is the app's job.)"""
        with self._lock:
            metadata = self._metadata
            if metadata is None and self._refresh_token is not None and self.issuer:
                try:
                    metadata = self._discover()
                except PodClientError:
                    metadata = None
            endpoint = (metadata or {}).get("revocation_endpoint")
            if isinstance(endpoint, str) and self._refresh_token is not None and self.client_id is not None:
                data = {"token": self._refresh_token, "token_type_hint": "refresh_token"}
                headers = {}
                if self._client_secret is not None:
                    headers["Authorization"] = _basic(self.client_id, self._client_secret)
                else:
                    data["client_id"] = self.client_id
                # Offline or refused: forgetting the token locally is all that can be done.
                with contextlib.suppress(PodClientError):
                    self._call("POST", endpoint, data=data, headers=headers).close()
            self._access_token = self._refresh_token = self._id_token = None
            self._client_secret = None
            self.webid = None
            self.expires_at = None
            if self._cache is not None:
                self._cache.unlink(missing_ok=True)
                self._cache = None

    def close(self) -> None:
        """Close the pooled HTTP connections (the login is kept)."""
        self._http.close()


__all__ = ["REFRESH_MARGIN", "SCOPE", "LoginRequest", "Session"]
