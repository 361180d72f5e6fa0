"""The Solid-OIDC OpenID Provider: discovery, keys, authorization, tokens, registration, logout.

``init_app(app, settings, database, directory)`` builds the pieces from settings and registers the
endpoints (``pod_server.http.oidc``). See docs/authentication.md for what an app developer sees and
docs/decisions/0005-identity-provider.md for why it is written on its own rather than on authlib's
server classes.
"""

from __future__ import annotations

from flask import Flask

from pod_server.accounts.directory import Account, AccountDirectory, ClientCredential
from pod_server.auth.dpop import DpopVerifier
from pod_server.auth.replay import MemoryReplayCache, RedisReplayCache, ReplayCache
from pod_server.config import Settings
from pod_server.db import Database
from pod_server.fetch import SafeFetcher, fetcher_for


class NullAccountDirectory:
    """No accounts: nobody logs in and no credential works (before the accounts module is wired)."""

    def authenticate(self, email: str, password: str) -> Account | None:
        return None

    def get(self, account_id: str) -> Account | None:
        return None

    def check_client_secret(self, client_id: str, client_secret: str) -> ClientCredential | None:
        return None


def replay_cache_for(settings: Settings) -> ReplayCache:
    """Redis when configured (shared by every worker), else this process's memory."""
    return RedisReplayCache.from_url(settings.redis_url) if settings.redis_url else MemoryReplayCache()


def init_app(
    app: Flask,
    settings: Settings,
    database: Database,
    directory: AccountDirectory | None = None,
    *,
    fetcher: SafeFetcher | None = None,
    replay: ReplayCache | None = None,
) -> None:
    from pod_server.http import oidc as http
    from pod_server.idp.clients import ClientRegistry, load_static_clients
    from pod_server.idp.keys import KeyStore
    from pod_server.idp.provider import Lifetimes, Provider
    from pod_server.idp.throttle import Throttle

    fetcher = fetcher or app.extensions.get("pod_server.fetch") or fetcher_for(settings)
    app.extensions["pod_server.fetch"] = fetcher
    replay = replay or app.extensions.get("pod_server.replay") or replay_cache_for(settings)
    app.extensions["pod_server.replay"] = replay
    keys = KeyStore(database)
    keys.ensure()  # first start: make the signing keys
    clients_file = str(settings.oidc_clients_file) if settings.oidc_clients_file else None
    provider = Provider(
        issuer=settings.base_url,
        database=database,
        keys=keys,
        clients=ClientRegistry(database, fetcher, load_static_clients(clients_file)),
        directory=directory or NullAccountDirectory(),
        dpop=DpopVerifier(replay),
        lifetimes=Lifetimes(),
        token_throttle=Throttle(limit=120, window=60.0, what="requests from this address"),
        client_failures=Throttle(limit=10, window=300.0, what="failed client authentications"),
    )
    http.init_app(app, provider)


__all__ = ["NullAccountDirectory", "init_app", "replay_cache_for"]
