"""The apps that may ask for tokens, and how each is identified.

Solid-OIDC §5 allows three kinds of ``client_id``; :class:`ClientRegistry` resolves each to a
:class:`Client`:

- a **Client ID Document**: the ``client_id`` is an http(s) URL that dereferences to JSON-LD with
  the Solid-OIDC context (Solid-OIDC §5.1). It is fetched through the safe fetcher, must name
  itself as ``client_id`` and list the ``redirect_uris``. Such clients are public (no secret);
- a client made by **dynamic registration** (RFC 7591) at ``/.oidc/register``: stored in the
  database with its secret hashed;
- a **static** client from the operator's JSON file (``oidc_clients_file``).

Client credentials made by account owners (``pod-server credentials create``) are not apps with
redirect URIs; the token endpoint checks them through the :class:`AccountDirectory`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from pod_server.db import Database
from pod_server.fetch import FetchError, SafeFetcher
from pod_server.idp import tables
from pod_server.idp.errors import OAuthError, invalid_client

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Client:
    client_id: str
    kind: str
    """``document``, ``registered`` or ``static``."""
    redirect_uris: tuple[str, ...]
    client_name: str = ""
    logo_uri: str | None = None
    client_uri: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    secret_hash: str | None = None
    """SHA-256 of the secret; ``None`` for a public client (token_endpoint_auth_method none)."""

    @property
    def public(self) -> bool:
        return self.secret_hash is None

    def check_secret(self, secret: str) -> bool:
        return self.secret_hash is not None and hmac.compare_digest(self.secret_hash, hash_secret(secret))

    def display_name(self) -> str:
        return self.client_name or (urlsplit(self.client_id).hostname or self.client_id)


def hash_secret(secret: str) -> str:
    """Secrets the server generates have 256 bits of entropy: one SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_url_client_id(client_id: str) -> bool:
    return client_id.startswith(("https://", "http://"))


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OAuthError("invalid_client_metadata", f"{name} must be a list of URL strings")
    return tuple(value)


def _check_redirect_uri(uri: str) -> None:
    # RFC 6749 §3.1.2: absolute, no fragment. Native apps may use private schemes (RFC 8252 §7.1);
    # plain http only on loopback (RFC 8252 §7.3).
    try:
        parts = urlsplit(uri)
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or parts.fragment:
        raise OAuthError("invalid_redirect_uri", f"{uri!r} must be an absolute URI without a fragment")
    if parts.scheme in {"javascript", "data", "file"}:
        raise OAuthError("invalid_redirect_uri", f"the {parts.scheme}: scheme is not allowed")
    if parts.scheme == "http" and (parts.hostname or "") not in _LOOPBACK:
        raise OAuthError("invalid_redirect_uri", "http redirect URIs are allowed only on loopback hosts")


def client_from_metadata(
    client_id: str, kind: str, data: Mapping[str, Any], secret_hash: str | None
) -> Client:
    redirect_uris = _strings(data.get("redirect_uris"), "redirect_uris")
    for uri in redirect_uris:
        _check_redirect_uri(uri)
    name = data.get("client_name")
    logo = data.get("logo_uri")
    home = data.get("client_uri")
    return Client(
        client_id=client_id,
        kind=kind,
        redirect_uris=redirect_uris,
        client_name=name if isinstance(name, str) else "",
        logo_uri=logo if isinstance(logo, str) and logo.startswith("https://") else None,
        client_uri=home if isinstance(home, str) and home.startswith(("https://", "http://")) else None,
        post_logout_redirect_uris=_strings(
            data.get("post_logout_redirect_uris"), "post_logout_redirect_uris"
        ),
        secret_hash=secret_hash,
    )


@dataclass
class ClientRegistry:
    database: Database
    fetcher: SafeFetcher
    static: Mapping[str, Client] = field(default_factory=dict)
    clock: Callable[[], float] = time.time

    def resolve(self, client_id: str) -> Client:
        """The client with this id, or ``invalid_client``. Fetches Client ID Documents."""
        if not client_id or len(client_id) > 2048:
            raise invalid_client("client_id is missing or too long")
        if client_id in self.static:
            return self.static[client_id]
        if is_url_client_id(client_id):
            return self._document(client_id)
        with self.database.connect() as conn:
            row = conn.execute(
                sa.select(tables.clients).where(tables.clients.c.client_id == client_id)
            ).first()
        if row is None:
            raise invalid_client("unknown client_id: register the app or use a Client ID Document URL")
        return client_from_metadata(client_id, "registered", json.loads(row.metadata), row.secret_hash)

    def _document(self, client_id: str) -> Client:
        # Solid-OIDC §5.1: dereference the client_id; the document's client_id must equal it.
        try:
            fetched = self.fetcher.get(client_id, accept="application/ld+json, application/json;q=0.9")
        except FetchError as exc:
            raise invalid_client(f"the Client ID Document could not be fetched: {exc.detail}") from None
        if fetched.status != 200:
            raise invalid_client(f"the Client ID Document answered {fetched.status}, not 200")
        try:
            data = json.loads(fetched.body)
        except (ValueError, UnicodeDecodeError):
            raise invalid_client("the Client ID Document is not JSON(-LD)") from None
        if not isinstance(data, dict) or data.get("client_id") != client_id:
            raise invalid_client("the Client ID Document must contain its own URL as client_id")
        try:
            return client_from_metadata(client_id, "document", data, None)
        except OAuthError as exc:
            raise invalid_client(f"the Client ID Document is invalid: {exc.detail}") from None

    def register(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """RFC 7591 §3: store a new client; answer its metadata with ``client_id`` (never a URL, so
        libraries do not mistake it for a Client ID Document) and, unless public, ``client_secret``."""
        if not isinstance(data, Mapping):
            raise OAuthError("invalid_client_metadata", "send the client metadata as a JSON object")
        method = data.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in AUTH_METHODS:
            raise OAuthError(
                "invalid_client_metadata",
                f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}",
            )
        client_id = secrets.token_urlsafe(16)
        client = client_from_metadata(client_id, "registered", data, None)
        if not client.redirect_uris:
            raise OAuthError("invalid_redirect_uri", "redirect_uris must list at least one URI")
        secret = None if method == "none" else secrets.token_urlsafe(32)
        now = self.clock()
        stored = {
            k: v
            for k, v in data.items()
            if k
            in {
                "redirect_uris",
                "client_name",
                "logo_uri",
                "client_uri",
                "post_logout_redirect_uris",
                "grant_types",
                "response_types",
                "scope",
                "contacts",
                "application_type",
                "id_token_signed_response_alg",
            }
        }
        stored["token_endpoint_auth_method"] = method
        with self.database.begin() as conn:
            conn.execute(
                sa.insert(tables.clients).values(
                    client_id=client_id,
                    metadata=json.dumps(stored),
                    secret_hash=hash_secret(secret) if secret else None,
                    created_at=now,
                )
            )
        answer: dict[str, Any] = {**stored, "client_id": client_id, "client_id_issued_at": int(now)}
        if secret:
            answer["client_secret"] = secret
            answer["client_secret_expires_at"] = 0
        return answer


def load_static_clients(path: str | None) -> dict[str, Client]:
    """Clients from the operator's JSON file: a list of objects with ``client_id``, ``redirect_uris``,
    optional ``client_secret`` (confidential) and display metadata."""
    if not path:
        return {}
    from pod_server.config import ConfigError

    try:
        with open(path, encoding="utf-8") as handle:
            entries = json.load(handle)
        clients = {}
        for entry in entries:
            secret = entry.get("client_secret")
            client = client_from_metadata(
                str(entry["client_id"]), "static", entry, hash_secret(secret) if secret else None
            )
            clients[client.client_id] = client
        return clients
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OAuthError) as exc:
        raise ConfigError(f"oidc_clients_file {path}: cannot read the clients ({exc})") from None


__all__ = [
    "AUTH_METHODS",
    "Client",
    "ClientRegistry",
    "hash_secret",
    "is_url_client_id",
    "load_static_clients",
]
