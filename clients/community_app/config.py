"""The app's configuration, read from the environment once (``COMMUNITY_APP_*``).

Components receive an :class:`AppConfig`; nothing else reads ``os.environ``. The secret key is a
:class:`Secret`, which never prints.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PREFIX = "COMMUNITY_APP_"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


class Secret:
    """A string that shows as ``Secret('**********')`` when printed or logged."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def reveal(self) -> str:
        return self._value


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{PREFIX}{name} must be an http(s) URL without query or fragment, not {value!r}")
    return value if value.endswith("/") else value + "/"


@dataclass(frozen=True)
class AppConfig:
    """``community`` is the community pod root ``{c}`` (ending in ``/``); ``base_url`` is where this
    app is served (ending in ``/``): its Client ID Document is ``{base_url}client-id`` and its
    redirect URI ``{base_url}callback``.

    ``allow_hosts`` names hosts the app may fetch from even when they resolve to private or
    loopback addresses (the community's own host is always allowed); ``allow_private`` allows all
    of them (development only)."""

    community: str
    base_url: str
    secret_key: Secret = field(default_factory=lambda: Secret(secrets.token_urlsafe(32)))
    app_name: str = "Community app"
    allow_hosts: frozenset[str] = frozenset()
    allow_private: bool = False
    timeout: float = 10.0
    """Seconds for each outbound request (connect and read)."""
    max_bytes: int = 2 * 1024 * 1024
    """The largest response body read from a pod; bigger ones are refused."""
    max_items: int = 200
    """At most this many contributions, ledger entries, reports, motions and ballots per page."""
    session_idle: float = 8 * 3600.0
    """Seconds after which an unused login is forgotten."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "community", _url("COMMUNITY", self.community))
        object.__setattr__(self, "base_url", _url("BASE_URL", self.base_url))

    @property
    def client_id(self) -> str:
        """The Client ID Document's URL (Solid-OIDC §5.1): the app's ``client_id``."""
        return self.base_url + "client-id"

    @property
    def redirect_uri(self) -> str:
        return self.base_url + "callback"

    @property
    def trusted_hosts(self) -> frozenset[str]:
        host = urlsplit(self.community).hostname or ""
        return frozenset({host.lower(), *(h.lower() for h in self.allow_hosts)})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AppConfig:
        """``COMMUNITY_APP_COMMUNITY`` and ``COMMUNITY_APP_BASE_URL`` are required; the rest are
        optional: ``SECRET_KEY``, ``NAME``, ``ALLOW_HOSTS`` (comma-separated), ``ALLOW_PRIVATE``
        (1/true), ``TIMEOUT``, ``MAX_BYTES``, ``MAX_ITEMS``."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name)
            return value.strip() if value and value.strip() else None

        def number(name: str, default: float) -> float:
            raw = get(name)
            try:
                value = float(raw) if raw is not None else default
            except ValueError:
                raise ConfigError(f"{PREFIX}{name} must be a number, not {raw!r}") from None
            if value <= 0:
                raise ConfigError(f"{PREFIX}{name} must be greater than 0")
            return value

        community, base_url = get("COMMUNITY"), get("BASE_URL")
        if community is None or base_url is None:
            raise ConfigError(
                f"set {PREFIX}COMMUNITY to the community's pod URL (e.g. https://pods.example/commons/) "
                f"and {PREFIX}BASE_URL to where this app is served (e.g. http://127.0.0.1:5000/)"
            )
        secret = get("SECRET_KEY")
        hosts = get("ALLOW_HOSTS") or ""
        return cls(
            community=community,
            base_url=base_url,
            secret_key=Secret(secret) if secret else Secret(secrets.token_urlsafe(32)),
            app_name=get("NAME") or "Community app",
            allow_hosts=frozenset(h.strip().lower() for h in hosts.split(",") if h.strip()),
            allow_private=(get("ALLOW_PRIVATE") or "").lower() in ("1", "true", "yes"),
            timeout=number("TIMEOUT", 10.0),
            max_bytes=int(number("MAX_BYTES", 2 * 1024 * 1024)),
            max_items=int(number("MAX_ITEMS", 200)),
        )


__all__ = ["AppConfig", "ConfigError", "Secret"]
