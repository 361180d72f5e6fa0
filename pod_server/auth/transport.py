"""Which issuer and WebID URLs may be trusted over plain http.

Solid-OIDC §10.1: every resource needed to verify claims (the issuer, the WebID) MUST be
transmitted over TLS. So issuers and WebIDs must be ``https`` URLs, except on loopback hosts
(``localhost``, ``127.0.0.0/8``, ``::1``: development and tests) and on the hosts an operator
lists in ``allow_http_issuers``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from pod_server.errors import InvalidToken


def is_loopback_host(host: str) -> bool:
    """``localhost`` (and its subdomains, RFC 6761 §6.3), ``127.0.0.0/8`` or ``::1``."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class TransportPolicy:
    """``allow_http_hosts``: host names allowed over http besides loopback; ``"*"`` allows any."""

    allow_http_hosts: frozenset[str] = frozenset()

    def check(self, url: str, what: str) -> None:
        """Raise :class:`InvalidToken` unless ``url`` is https, or http on an allowed host."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            raise InvalidToken(f"the {what} {url!r} is not a valid URL", check=what) from None
        if not host or parts.scheme not in {"http", "https"}:
            raise InvalidToken(f"the {what} must be an absolute https URL", check=what)
        if parts.scheme == "https" or is_loopback_host(host):
            return
        if "*" in self.allow_http_hosts or host in self.allow_http_hosts:
            return
        # Solid-OIDC §10.1: resources needed to verify claims MUST only be transmitted over TLS.
        raise InvalidToken(
            f"the {what} {url} is not https; only https {what}s are trusted "
            "(operators: POD_SERVER_ALLOW_HTTP_ISSUERS lists hosts allowed over http)",
            check=what,
        )


__all__ = ["TransportPolicy", "is_loopback_host"]
