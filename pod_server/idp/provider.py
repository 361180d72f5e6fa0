"""The Solid-OIDC provider's rules, without Flask: authorization requests, codes and token grants.

``pod_server.http.oidc`` parses HTTP into the plain values these methods take and turns their
answers (or :class:`~pod_server.idp.errors.OAuthError`) into responses.

Grants (``/.oidc/token``), each answering DPoP-bound tokens (RFC 9449 §5, Solid-OIDC §6):

- ``authorization_code`` with PKCE S256 (RFC 7636; required for every client, OAuth 2.1);
- ``refresh_token``: rotated on each use, bound to the key of the first proof; a reused refresh
  token revokes its whole family (OAuth 2.0 Security BCP §4.14.2);
- ``client_credentials`` for an account's credential (its ``webid`` goes into the token).

A request that fails leaves every stored record as it was, except the security responses above
(a replayed code or refresh token revokes what was issued from it, RFC 6749 §4.1.2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import sqlalchemy as sa

from pod_server.accounts.directory import Account, AccountDirectory, ClientCredential
from pod_server.auth.dpop import DpopError, DpopProof, DpopVerifier
from pod_server.db import Database
from pod_server.idp import tables, tokens
from pod_server.idp.clients import Client, ClientRegistry
from pod_server.idp.errors import OAuthError, invalid_client, invalid_grant, invalid_request
from pod_server.idp.keys import KeyStore
from pod_server.idp.throttle import Throttle

SCOPES = ("openid", "webid", "offline_access", "profile")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def with_query(url: str, params: Mapping[str, str | None]) -> str:
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class RedirectError(OAuthError):
    """An authorization error sent back to the (validated) redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: OAuthError, location: str) -> None:
        super().__init__(error.error, error.detail, status=303, headers={"Location": location})
        self.location = location


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: frozenset[str]
    params: Mapping[str, str]
    """The request's parameters, to send back with the consent form."""

    @property
    def scope_text(self) -> str:
        return " ".join(self.scope)


@dataclass(frozen=True)
class ClientAuth:
    """How the client authenticated at the token endpoint (RFC 6749 §2.3)."""

    client_id: str | None
    secret: str | None
    method: str  # client_secret_basic | client_secret_post | none


@dataclass
class Lifetimes:
    access_token: int = 3600
    id_token: int = 3600
    code: int = 120
    refresh_token: int = 14 * 24 * 3600


@dataclass
class Provider:
    issuer: str
    database: Database
    keys: KeyStore
    clients: ClientRegistry
    directory: AccountDirectory
    dpop: DpopVerifier
    lifetimes: Lifetimes
    token_throttle: Throttle
    client_failures: Throttle
    clock: Callable[[], float] = time.time
    cleanup_chance: float = 0.02

    @property
    def token_endpoint(self) -> str:
        return self.issuer + ".oidc/token"

    # -- authorization endpoint -------------------------------------------------------------

    def authorization_request(self, params: Mapping[str, str]) -> AuthorizationRequest:
        """Validate an authorization request. Until the client and its redirect URI are known,
        errors are raised as they are (the page shows them); after, as :class:`RedirectError`."""
        client = self.clients.resolve(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        # RFC 6749 §3.1.2.3 and OAuth 2.1: exact string match against a registered URI.
        if redirect_uri not in client.redirect_uris:
            raise invalid_request(
                "redirect_uri is not one the app registered; the app must list it "
                + ("in its Client ID Document" if client.kind == "document" else "when it registers")
            )
        state = params.get("state")
        try:
            return self._authorization_rest(client, redirect_uri, params)
        except OAuthError as exc:
            location = with_query(
                redirect_uri,
                {"error": exc.error, "error_description": exc.detail, "state": state, "iss": self.issuer},
            )
            raise RedirectError(exc, location) from None

    def _authorization_rest(
        self, client: Client, redirect_uri: str, params: Mapping[str, str]
    ) -> AuthorizationRequest:
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "only response_type=code is supported")
        requested = params.get("scope", "").split()
        if "openid" not in requested:
            raise OAuthError("invalid_scope", "scope must include openid (and webid for Solid apps)")
        scope = tuple(s for s in SCOPES if s in requested)  # RFC 6749 §3.3: unknown scopes are ignored
        challenge = params.get("code_challenge", "")
        method = params.get("code_challenge_method", "")
        # RFC 7636 §4.3; OAuth 2.1 §4.1.1: PKCE with S256 is required here.
        if not challenge or method != "S256":
            raise invalid_request("PKCE is required: send code_challenge with code_challenge_method=S256")
        if not _CHALLENGE.fullmatch(challenge):
            raise invalid_request("code_challenge must be the 43-character base64url SHA-256 of the verifier")
        nonce = params.get("nonce")
        if nonce is not None and len(nonce) > 512:
            raise invalid_request("nonce is longer than 512 characters")
        if "request" in params or "request_uri" in params:
            raise OAuthError("request_not_supported", "request objects are not supported")
        return AuthorizationRequest(
            client=client,
            redirect_uri=redirect_uri,
            scope=scope,
            state=params.get("state"),
            nonce=nonce,
            code_challenge=challenge,
            prompt=frozenset(params.get("prompt", "").split()),
            params=dict(params),
        )

    def remembered_webid(self, account: Account, request: AuthorizationRequest) -> str | None:
        """The WebID the account consented to give this client with these scopes, if it did."""
        if "consent" in request.prompt:
            return None
        with self.database.connect() as conn:
            row = conn.execute(
                sa.select(tables.consents).where(
                    tables.consents.c.account_id == account.id,
                    tables.consents.c.client_id == request.client.client_id,
                )
            ).first()
        if row is None or row.webid not in account.webids or not set(request.scope) <= set(row.scope.split()):
            return None
        return str(row.webid)

    def remember_consent(self, account: Account, request: AuthorizationRequest, webid: str) -> None:
        values = {
            "account_id": account.id,
            "client_id": request.client.client_id,
            "webid": webid,
            "scope": request.scope_text,
            "created_at": self.clock(),
        }
        with self.database.begin() as conn:
            conn.execute(
                sa.delete(tables.consents).where(
                    tables.consents.c.account_id == account.id,
                    tables.consents.c.client_id == request.client.client_id,
                )
            )
            conn.execute(sa.insert(tables.consents).values(**values))

    def deny(self, request: AuthorizationRequest) -> str:
        return with_query(
            request.redirect_uri,
            {
                "error": "access_denied",
                "error_description": "the user did not allow access",
                "state": request.state,
                "iss": self.issuer,
            },
        )

    def issue_code(
        self, account: Account, request: AuthorizationRequest, webid: str, auth_time: float
    ) -> str:
        """Store a one-time code and return the redirect URL carrying it, ``state`` and ``iss``
        (RFC 9207 §2)."""
        if webid not in account.webids:
            raise invalid_request("that WebID does not belong to this account")
        code = secrets.token_urlsafe(32)
        now = self.clock()
        with self.database.begin() as conn:
            conn.execute(
                sa.insert(tables.codes).values(
                    code_hash=_hash(code),
                    family=secrets.token_urlsafe(16),
                    client_id=request.client.client_id,
                    account_id=account.id,
                    webid=webid,
                    redirect_uri=request.redirect_uri,
                    scope=request.scope_text,
                    nonce=request.nonce,
                    code_challenge=request.code_challenge,
                    auth_time=auth_time,
                    expires_at=now + self.lifetimes.code,
                )
            )
        self._maybe_cleanup()
        return with_query(request.redirect_uri, {"code": code, "state": request.state, "iss": self.issuer})

    # -- token endpoint ---------------------------------------------------------------------

    def token(
        self, form: Mapping[str, str], auth: ClientAuth, dpop_headers: Sequence[str], remote: str
    ) -> dict[str, Any]:
        """Answer a token request (RFC 6749 §5.1) or raise an :class:`OAuthError`."""
        self.token_throttle.hit(remote)
        grant_type = form.get("grant_type", "")
        if grant_type not in GRANT_TYPES:
            raise OAuthError("unsupported_grant_type", f"grant_type must be one of {', '.join(GRANT_TYPES)}")
        if auth.client_id is None:
            raise invalid_client("identify the client: HTTP Basic, client_secret_post or client_id")
        self.client_failures.check(auth.client_id)
        if grant_type == "client_credentials":
            credential = self._credential(auth)
            proof = self._proof(dpop_headers)
            self._maybe_cleanup()
            return self._client_credentials(credential, form, proof)
        client = self._client(auth)
        proof = self._proof(dpop_headers)
        self._maybe_cleanup()
        if grant_type == "authorization_code":
            return self._authorization_code(client, form, proof)
        return self._refresh(client, form, proof)

    def _failed(self, client_id: str, detail: str) -> OAuthError:
        self.client_failures.hit(client_id)
        return invalid_client(detail)

    def _credential(self, auth: ClientAuth) -> ClientCredential:
        assert auth.client_id is not None
        if auth.secret is None:
            raise invalid_client("client_credentials needs the client_id and client_secret (HTTP Basic)")
        credential = self.directory.check_client_secret(auth.client_id, auth.secret)
        if credential is None:
            raise self._failed(auth.client_id, "the client_id or client_secret is wrong")
        return credential

    def _client(self, auth: ClientAuth) -> Client:
        assert auth.client_id is not None
        try:
            client = self.clients.resolve(auth.client_id)
        except OAuthError:
            raise self._failed(auth.client_id, "unknown client_id") from None
        if client.public:
            if auth.secret is not None:
                raise invalid_client(
                    "this client is public (token_endpoint_auth_method none): send no secret"
                )
        elif auth.secret is None or not client.check_secret(auth.secret):
            raise self._failed(auth.client_id, "the client_secret is missing or wrong")
        return client

    def _proof(self, headers: Sequence[str]) -> DpopProof:
        # Solid-OIDC §6: tokens are DPoP-bound, so a proof is required for every grant.
        if not headers:
            raise OAuthError("invalid_dpop_proof", "send a DPoP proof (RFC 9449) in the DPoP header")
        try:
            return self.dpop.verify(headers, method="POST", url=self.token_endpoint)
        except DpopError as exc:
            raise OAuthError("invalid_dpop_proof", exc.detail) from None

    def _tokens(
        self,
        *,
        client_id: str,
        webid: str,
        scope: str,
        proof: DpopProof,
        nonce: str | None = None,
        auth_time: float | None = None,
    ) -> dict[str, Any]:
        now = int(self.clock())
        answer: dict[str, Any] = {
            "access_token": tokens.access_token(
                self.keys,
                issuer=self.issuer,
                webid=webid,
                client_id=client_id,
                jkt=proof.jkt,
                scope=scope,
                now=now,
                lifetime=self.lifetimes.access_token,
            ),
            "token_type": "DPoP",
            "expires_in": self.lifetimes.access_token,
            "scope": scope,
        }
        if "openid" in scope.split() and auth_time is not None:
            answer["id_token"] = tokens.id_token(
                self.keys,
                issuer=self.issuer,
                webid=webid,
                client_id=client_id,
                nonce=nonce,
                auth_time=int(auth_time),
                jkt=proof.jkt,
                now=now,
                lifetime=self.lifetimes.id_token,
            )
        return answer

    def _client_credentials(
        self, credential: ClientCredential, form: Mapping[str, str], proof: DpopProof
    ) -> dict[str, Any]:
        requested = form.get("scope", "openid webid").split()
        scope = " ".join(s for s in SCOPES if s in requested and s != "offline_access") or "webid"
        if self.directory.get(credential.account_id) is None:
            raise invalid_client("the account of this credential no longer exists")
        return self._tokens(client_id=credential.client_id, webid=credential.webid, scope=scope, proof=proof)

    def _account(self, account_id: str, webid: str) -> Account:
        account = self.directory.get(account_id)
        if account is None or webid not in account.webids:
            raise invalid_grant("the account or WebID this grant was for no longer exists")
        return account

    def _authorization_code(
        self, client: Client, form: Mapping[str, str], proof: DpopProof
    ) -> dict[str, Any]:
        code = form.get("code", "")
        verifier = form.get("code_verifier", "")
        if not code:
            raise invalid_request("code is missing")
        if not _VERIFIER.fullmatch(verifier):
            raise invalid_grant("code_verifier is missing or malformed (RFC 7636 §4.1: 43-128 characters)")
        now = self.clock()
        with self.database.begin() as conn:
            row = conn.execute(sa.select(tables.codes).where(tables.codes.c.code_hash == _hash(code))).first()
            if row is None or row.expires_at <= now:
                raise invalid_grant("the code is unknown or expired; start the login again")
            if row.used_at is not None:
                # RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
                self._revoke_family(conn, row.family)
                replayed = True
            else:
                replayed = False
                if row.client_id != client.client_id:
                    raise invalid_grant("the code was issued to another client")
                if form.get("redirect_uri") != row.redirect_uri:
                    raise invalid_grant("redirect_uri must be the one sent to the authorization endpoint")
                if not hmac.compare_digest(s256(verifier), row.code_challenge):
                    raise invalid_grant("code_verifier does not match the code_challenge (PKCE)")
                self._account(row.account_id, row.webid)
                conn.execute(
                    sa.update(tables.codes)
                    .where(tables.codes.c.code_hash == row.code_hash)
                    .values(used_at=now)
                )
                answer = self._tokens(
                    client_id=client.client_id,
                    webid=row.webid,
                    scope=row.scope,
                    proof=proof,
                    nonce=row.nonce,
                    auth_time=row.auth_time,
                )
                if "offline_access" in row.scope.split():
                    answer["refresh_token"] = self._new_refresh(conn, row, proof.jkt)
        if replayed:
            raise invalid_grant("the code was already used; tokens issued from it are revoked")
        return answer

    def _new_refresh(self, conn: sa.Connection, grant: sa.Row[Any], jkt: str) -> str:
        """A new refresh token of ``grant``'s family (a code or refresh-token row), bound to ``jkt``."""
        token = secrets.token_urlsafe(32)
        conn.execute(
            sa.insert(tables.refresh_tokens).values(
                token_hash=_hash(token),
                family=grant.family,
                client_id=grant.client_id,
                account_id=grant.account_id,
                webid=grant.webid,
                scope=grant.scope,
                jkt=jkt,
                auth_time=grant.auth_time,
                expires_at=self.clock() + self.lifetimes.refresh_token,
            )
        )
        return token

    def _revoke_family(self, conn: sa.Connection, family: str) -> None:
        conn.execute(sa.delete(tables.refresh_tokens).where(tables.refresh_tokens.c.family == family))

    def _refresh(self, client: Client, form: Mapping[str, str], proof: DpopProof) -> dict[str, Any]:
        token = form.get("refresh_token", "")
        if not token:
            raise invalid_request("refresh_token is missing")
        now = self.clock()
        with self.database.begin() as conn:
            row = conn.execute(
                sa.select(tables.refresh_tokens).where(tables.refresh_tokens.c.token_hash == _hash(token))
            ).first()
            if row is None or row.expires_at <= now or row.client_id != client.client_id:
                raise invalid_grant("the refresh token is unknown, expired or not this client's")
            if row.used_at is not None:
                # Security BCP §4.14.2: reuse of a rotated refresh token revokes the whole family.
                self._revoke_family(conn, row.family)
                revoked = True
            else:
                revoked = False
                # RFC 9449 §5: a refresh token issued to a public client is bound to the DPoP key.
                if not hmac.compare_digest(row.jkt, proof.jkt):
                    raise invalid_grant("the refresh token is bound to another DPoP key")
                self._account(row.account_id, row.webid)
                requested = form.get("scope")
                scope = row.scope
                if requested is not None:
                    if not set(requested.split()) <= set(row.scope.split()):
                        raise OAuthError("invalid_scope", "a refresh cannot widen the scope")
                    scope = " ".join(s for s in row.scope.split() if s in requested.split())
                conn.execute(
                    sa.update(tables.refresh_tokens)
                    .where(tables.refresh_tokens.c.token_hash == row.token_hash)
                    .values(used_at=now)
                )
                answer = self._tokens(
                    client_id=client.client_id,
                    webid=row.webid,
                    scope=scope,
                    proof=proof,
                    auth_time=row.auth_time,
                )
                answer["refresh_token"] = self._new_refresh(conn, row, row.jkt)
        if revoked:
            raise invalid_grant("the refresh token was already used; this login's tokens are revoked")
        return answer

    # -- housekeeping -----------------------------------------------------------------------

    def _maybe_cleanup(self) -> None:
        """On a small random fraction of requests, delete expired rows (a range scan on the
        ``expires_at`` index), so no request pays for a full scan."""
        if random.random() < self.cleanup_chance:
            self.cleanup()

    def cleanup(self) -> int:
        now = self.clock()
        with self.database.begin() as conn:
            gone = conn.execute(sa.delete(tables.codes).where(tables.codes.c.expires_at < now)).rowcount
            gone += conn.execute(
                sa.delete(tables.refresh_tokens).where(tables.refresh_tokens.c.expires_at < now)
            ).rowcount
        return int(gone)


__all__ = [
    "GRANT_TYPES",
    "SCOPES",
    "AuthorizationRequest",
    "ClientAuth",
    "Lifetimes",
    "Provider",
    "RedirectError",
    "s256",
    "with_query",
]
