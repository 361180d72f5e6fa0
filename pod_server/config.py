"""Settings: the only module that reads the environment.

Every setting has a ``POD_SERVER_*`` variable and (for ``serve`` and the operator commands) a
command-line flag of the same name. Components receive plain values from a :class:`Settings`;
none of them reads ``os.environ``. Secrets are wrapped in :class:`Secret` so they never print.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pod_server.errors import PodError

PREFIX = "POD_SERVER_"
BACKENDS = ("filesystem", "sql", "memory")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(PodError):
    """A setting has a value the server cannot run with. Raised at start-up, never per request."""


class Secret:
    """A string that does not show itself in ``repr``, ``str``, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"expected a yes/no value such as 1 or 0, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """Everything the server can be told. Defaults give a working server on localhost:3000."""

    base_url: str = "http://localhost:3000/"
    host: str = "127.0.0.1"
    port: int = 3000
    data_dir: Path = Path("data")
    backend: str = "filesystem"
    database_url: str | None = None
    single_pod: bool = False
    subdomains: bool = False

    # Limits (each answered with a clear 413 or 400/414).
    max_body_bytes: int = 64 * 1024 * 1024
    max_rdf_bytes: int = 8 * 1024 * 1024
    max_path_length: int = 1024
    max_triples: int = 500_000
    max_literal_bytes: int = 1024 * 1024
    max_jsonld_depth: int = 64
    default_page_size: int = 1000
    representation_cache_bytes: int = 64 * 1024 * 1024
    """Per worker: container listings and converted RDF, keyed by ETag (0 turns it off)."""

    # Operators.
    log_level: str = "INFO"
    access_log: bool = True
    metrics: bool = False
    metrics_token: Secret | None = None
    # Where worker processes keep their metric values (prometheus-client multiprocess mode);
    # see ``multiprocess_metrics_dir`` for the default.
    metrics_dir: Path | None = None
    trusted_contexts: tuple[str, ...] = field(default=())

    # Accounts. Single-pod mode: at first start (no accounts yet) the owner's account and the root
    # pod are made from these (see pod_server.accounts.seed).
    seed_email: str | None = None
    seed_password: Secret | None = None
    # Failed logins allowed per email / per client address in 15 minutes before 429.
    login_failures_per_email: int = 5
    login_failures_per_ip: int = 50

    # Identity provider and outbound requests (pod_server.idp, pod_server.fetch).
    fetch_allow_private: bool = False
    """Let the safe fetcher reach loopback and private addresses (development only)."""
    fetch_allow_hosts: tuple[str, ...] = field(default=())
    """Host names the safe fetcher may reach even on private addresses, e.g. ``localhost``."""
    redis_url: str | None = None
    """Redis for state shared by all workers (the DPoP replay cache); per process without it."""
    oidc_clients_file: Path | None = None
    """A JSON list of statically configured OIDC clients (``client_id``, ``redirect_uris``, ...)."""

    # Live updates (pod_server.notifications): Solid Notifications and the legacy solid-0.1 socket.
    # With redis_url set, changes reach subscribers through Redis pub/sub, whichever worker holds them.
    notifications_legacy: bool = True
    """Serve the solid-0.1 WebSocket protocol (``Updates-Via``) for older apps such as SolidOS."""
    notification_max_duration: float = 14 * 24 * 3600.0
    """Seconds a notification channel may live at most (a later ``endAt`` is clamped)."""
    notification_ping_interval: float = 30.0
    """Seconds between WebSocket pings; a peer that misses one is closed."""
    notification_max_connections: int = 10_000
    """Open notification sockets and streams allowed per worker (503 beyond)."""
    webhook_attempts: int = 6
    """Consecutive failed deliveries after which a webhook channel is dropped."""
    webhook_backoff: float = 1.0
    """Seconds before the first webhook retry; doubled after each failure (capped at 5 minutes)."""

    # The SPARQL endpoint of each pod (pod_server.query, pod_server.http.query).
    query_timeout: float = 10.0
    """Seconds a SPARQL query may run; beyond, 503 with a message saying to narrow the query."""
    query_max_rows: int = 10_000
    """Results (solutions, or triples of a CONSTRUCT/DESCRIBE) a query may return; beyond, 422."""

    # The resource server's authentication (pod_server.auth.solid_oidc).
    strict_dpop: bool = False
    """Refuse DPoP proofs without ``ath`` (RFC 9449 §4.3). Off by default: Inrupt's client sends none."""
    allow_bearer: bool = False
    """Accept unbound ``Authorization: Bearer`` access tokens (no DPoP proof). Off: they can be replayed."""
    allow_http_issuers: tuple[str, ...] = field(default=())
    """Hosts whose issuers and WebIDs are trusted over plain http (loopback always is; ``*``: any)."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(
                "base_url must be an absolute http(s) URL such as http://localhost:3000/, "
                f"got {self.base_url!r}"
            )
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.metrics_dir is not None:
            object.__setattr__(self, "metrics_dir", Path(self.metrics_dir))
        level = str(self.log_level).upper()
        if level not in LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        object.__setattr__(self, "log_level", level)
        if self.query_timeout <= 0 or self.query_max_rows < 1:
            raise ConfigError("query_timeout must be above 0 seconds and query_max_rows at least 1")
        if self.single_pod and self.subdomains:
            raise ConfigError("single_pod and subdomains cannot be combined: a single pod has no subdomains")

    @property
    def sql_url(self) -> str:
        """The database for the SQL backend and server metadata: SQLite in the data folder by default,
        in memory (``sqlite://``) with the memory backend."""
        if self.database_url:
            return self.database_url
        if self.backend == "memory":
            return "sqlite://"
        return f"sqlite:///{(self.data_dir / 'pod-server.sqlite3').resolve()}"

    @property
    def multiprocess_metrics_dir(self) -> Path | None:
        """The metrics folder in use: ``metrics_dir``, else ``{data_dir}/metrics`` when metrics are on
        and several worker processes may serve (every backend but ``memory``), else ``None``."""
        if self.metrics_dir is not None:
            return self.metrics_dir
        if self.metrics and self.backend != "memory":
            return self.data_dir / "metrics"
        return None

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_COERCE: dict[str, Callable[[str], Any]] = {
    "base_url": str,
    "host": str,
    "port": int,
    "data_dir": Path,
    "backend": str,
    "database_url": str,
    "single_pod": _bool,
    "subdomains": _bool,
    "max_body_bytes": int,
    "max_rdf_bytes": int,
    "max_path_length": int,
    "max_triples": int,
    "max_literal_bytes": int,
    "max_jsonld_depth": int,
    "default_page_size": int,
    "representation_cache_bytes": int,
    "log_level": str,
    "access_log": _bool,
    "metrics": _bool,
    "metrics_token": Secret,
    "metrics_dir": Path,
    "trusted_contexts": lambda v: tuple(x for x in v.split() if x),
    "seed_email": str,
    "seed_password": Secret,
    "login_failures_per_email": int,
    "login_failures_per_ip": int,
    "fetch_allow_private": _bool,
    "fetch_allow_hosts": lambda v: tuple(x.lower() for x in v.replace(",", " ").split() if x),
    "redis_url": str,
    "oidc_clients_file": Path,
    "notifications_legacy": _bool,
    "notification_max_duration": float,
    "notification_ping_interval": float,
    "notification_max_connections": int,
    "webhook_attempts": int,
    "webhook_backoff": float,
    "query_timeout": float,
    "query_max_rows": int,
    "strict_dpop": _bool,
    "allow_bearer": _bool,
    "allow_http_issuers": lambda v: tuple(x.lower() for x in v.replace(",", " ").split() if x),
}


def from_env(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from ``POD_SERVER_*`` variables, then apply ``overrides`` (CLI flags).

    ``overrides`` whose value is ``None`` are ignored, so unset flags fall back to the environment.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, coerce in _COERCE.items():
        raw = env.get(PREFIX + name.upper())
        if raw is None:
            continue
        try:
            values[name] = coerce(raw)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"{PREFIX}{name.upper()}: {exc}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "port" in values and "base_url" not in values:
        values["base_url"] = f"http://localhost:{values['port']}/"
    return Settings(**values)


__all__ = ["BACKENDS", "LOG_LEVELS", "ConfigError", "Secret", "Settings", "from_env"]
